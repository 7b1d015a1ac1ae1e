// Hybrid host acceptance, on runc and berth-runc alike: a memory limit is
// enforced through the v1 memory controller below the test's cgroup tree
// (here the memory hierarchy's own cgroup is nested, /process_api/<hash>,
// the others are at /), and nothing is created outside that tree.

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/strings.h"
#include "integration/priv/harness/suite.h"

namespace berth::priv {
namespace {

namespace bj = boost::json;
using ::testing::Eq;
using ::testing::MatchesRegex;

constexpr int64_t kLimit = 32 << 20;

std::string MemoryDir(const CaseContext& ctx) {
  return ctx.cgroups.Dir("/sys/fs/cgroup/memory", "ctr");
}

std::string Knob(const std::string& dir, const std::string& file) {
  Result<std::string> text = ReadFile(dir + "/" + file);
  return text.ok() ? std::string(Trim(*text)) : text.error().str();
}

// "oom_kill N" of memory.oom_control.
std::string OomKills(const std::string& dir) {
  for (const std::string& line : Split(Knob(dir, "memory.oom_control"), '\n')) {
    if (line.rfind("oom_kill ", 0) == 0) return line.substr(9);
  }
  return "?";
}

std::set<std::string> Outside(const CaseContext& ctx) {
  return ctx.cgroups.DirsOutside();
}

Flow MemoryFlow() {
  return [](Container& c, CaseContext& ctx, Observation& obs) {
    std::set<std::string> before = Outside(ctx);
    obs["create"] = Outcome(c.Create());
    std::string dir = MemoryDir(ctx);
    obs["memory_cgroup"] = PathExists(dir) ? "present" : "missing: " + dir;
    obs["limit_in_bytes"] = Knob(dir, "memory.limit_in_bytes");
    obs["init_in_memory_cgroup"] =
        Knob(dir, "cgroup.procs") == std::to_string(c.pid()) ? "yes" : "no";
    obs["start"] = Outcome(c.Start());
    obs["exit"] = DescribeStatus(c.WaitExit(std::chrono::seconds(30)));
    obs["oom_kills"] = OomKills(dir);
    obs["stdout_tail"] = [&] {
      std::vector<std::string> lines = SplitNonEmpty(c.Stdout(), '\n');
      return lines.empty() ? std::string() : lines.back();
    }();
    obs["delete"] = Outcome(c.Delete());
    std::set<std::string> after = Outside(ctx);
    std::vector<std::string> created;
    for (const std::string& d : after) {
      if (before.count(d) == 0) created.push_back(d);
    }
    obs["created_outside_tree"] = Join(created, " ");
    obs["memory_cgroup_after_delete"] = PathExists(dir) ? "left" : "removed";
  };
}

Configure MemoryLimit() {
  return [](bj::object& c, CaseContext&) {
    c["linux"].as_object()["resources"].as_object()["memory"] =
        bj::object{{"limit", kLimit}, {"swap", kLimit}};
  };
}

const std::vector<Case>& MemoryCases() {
  static const std::vector<Case> cases = {
      {.name = "memhog_16_fits_32mib",
       .args = Probe({"memhog", "16"}),
       .configure = MemoryLimit(),
       .flow = MemoryFlow(),
       .expect = {{"memory_cgroup", Eq("present")},
                  {"limit_in_bytes", Eq(std::to_string(kLimit))},
                  {"init_in_memory_cgroup", Eq("yes")},
                  {"exit", Eq("exit 0")},
                  {"oom_kills", Eq("0")},
                  {"stdout_tail", Eq("memhog: allocated 16 MiB")},
                  {"created_outside_tree", Eq("")},
                  {"memory_cgroup_after_delete", Eq("removed")}}},
      {.name = "memhog_64_oom_killed_at_32mib",
       .args = Probe({"memhog", "64"}),
       .configure = MemoryLimit(),
       .flow = MemoryFlow(),
       .expect = {{"limit_in_bytes", Eq(std::to_string(kLimit))},
                  {"exit", Eq("signal 9")},
                  {"oom_kills", Eq("1")},
                  {"stdout_tail", MatchesRegex("memhog: touched (16|32) MiB")},
                  {"created_outside_tree", Eq("")},
                  {"memory_cgroup_after_delete", Eq("removed")}}},
  };
  return cases;
}

BERTH_CONFORMANCE_SUITE(CgroupV1Memory, MemoryCases);

}  // namespace
}  // namespace berth::priv
