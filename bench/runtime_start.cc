// bench/runtime-start: container start-to-exit latency of berth-runc against
// runc and crun on the same machine, in the same run.
//
// Each round runs `<runtime> run` of /bin/true on one bundle (the busybox
// fixture rootfs, read-only) once per runtime, interleaved so that drift in
// the machine's load affects every runtime alike. Prints the median and p90
// per runtime and the ratio to berth. Not a test: the figure is the ratio.
//
//   runtime-start [--rounds N] [--rootfs DIR] [--berth PATH]

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cgroups/cgroups.h"
#include "common/file.h"
#include "common/json.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/time.h"

namespace {

using berth::Command;

struct Runtime {
  std::string name;
  std::string binary;
  std::vector<double> ms;
  bool broken = false;
};

std::string Arg(int argc, char** argv, const std::string& flag, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == flag) return argv[i + 1];
  }
  return fallback;
}

std::string SelfDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return berth::Dirname(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0));
}

// The default runc spec, with /bin/true, no terminal, a read-only rootfs and
// a cgroup under the bench's own cgroup subtree.
bool WriteBundle(const std::string& bundle, const std::string& rootfs, const std::string& cgroup) {
  Command spec;
  spec.argv = {"runc", "spec", "--bundle", bundle};
  auto r = berth::RunCommand(spec);
  if (!r.ok() || !r->success()) return false;
  auto text = berth::ReadFile(bundle + "/config.json");
  if (!text.ok()) return false;
  auto parsed = berth::json::Parse(*text, "config.json");
  if (!parsed.ok()) return false;
  boost::json::value& doc = *parsed;
  boost::json::object* root = doc.if_object();
  boost::json::value* process = root ? root->if_contains("process") : nullptr;
  boost::json::value* fs = root ? root->if_contains("root") : nullptr;
  boost::json::value* linux_config = root ? root->if_contains("linux") : nullptr;
  if (!process || !process->is_object() || !fs || !fs->is_object() || !linux_config ||
      !linux_config->is_object()) {
    return false;
  }
  process->get_object()["terminal"] = false;
  process->get_object()["args"] = boost::json::array{"/bin/true"};
  fs->get_object()["path"] = rootfs;
  fs->get_object()["readonly"] = true;
  linux_config->get_object()["cgroupsPath"] = cgroup;
  return berth::WriteFile(bundle + "/config.json", boost::json::serialize(doc)).ok();
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
  return v[i];
}

// Reaps orphans adopted by this process (we are a subreaper).
void ReapStrays() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

bool RunOnce(Runtime& rt, const std::string& root, const std::string& bundle, int round) {
  std::string id = "bench-" + rt.name + "-" + std::to_string(round);
  Command cmd;
  cmd.argv = {rt.binary, "--root", root, "run", "--bundle", bundle, id};
  int64_t start = berth::MonotonicNanos();
  auto r = berth::RunCommand(cmd);
  int64_t end = berth::MonotonicNanos();
  ReapStrays();
  if (!r.ok() || !r->success()) {
    std::fprintf(stderr, "%s: run failed: %s %s\n", rt.name.c_str(),
                 r.ok() ? r->Describe().c_str() : r.error().str().c_str(),
                 r.ok() ? r->err.c_str() : "");
    return false;
  }
  rt.ms.push_back(static_cast<double>(end - start) / 1e6);
  return true;
}

// The runs' cgroups live under <own cgroup>/<cgroup>/<runtime> in every
// hierarchy; runtimes remove their container's but leave the parents.
void RemoveBenchCgroups(const std::string& cgroup, const std::vector<Runtime>& runtimes) {
  auto layout = berth::cgroups::Detect();
  if (!layout.ok()) return;
  berth::cgroups::ResolveOptions where;
  where.cgroups_path = cgroup;
  where.container_id = cgroup;
  auto placement = berth::cgroups::Resolve(*layout, where);
  if (!placement.ok()) return;
  for (const auto& [hierarchy, dir] : placement->paths) {
    for (const Runtime& rt : runtimes)
      ::rmdir((dir + "/" + rt.name).c_str());
    ::rmdir(dir.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto rounds_arg = berth::ParseInt<int>(Arg(argc, argv, "--rounds", "100"), "--rounds");
  if (!rounds_arg.ok() || *rounds_arg <= 0) {
    std::fprintf(stderr, "runtime-start: --rounds wants a positive integer\n");
    return 2;
  }
  int rounds = *rounds_arg;
  std::string dir = SelfDir();
  std::string rootfs = Arg(argc, argv, "--rootfs", dir + "/../integration/fixtures/busybox-rootfs");
  std::string berth_bin = Arg(argc, argv, "--berth", dir + "/../cmd/berth-runc");
  if (!berth::PathExists(rootfs + "/bin/true")) {
    std::fprintf(stderr,
                 "runtime-start: no fixture rootfs at %s (build target berth_fixture_rootfs)\n",
                 rootfs.c_str());
    return 2;
  }
  // Containers whose runtime exits are adopted by us, not by PID 1.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  char tmpl[] = "/tmp/berth-bench-XXXXXX";
  const char* made = ::mkdtemp(tmpl);
  if (made == nullptr) {
    std::perror("runtime-start: mkdtemp");
    return 1;
  }
  std::string work = made;
  std::string cgroup = "berth-bench-" + std::to_string(::getpid());
  std::vector<Runtime> runtimes = {
      {"berth", berth_bin, {}}, {"runc", "/usr/bin/runc", {}}, {"crun", "/usr/bin/crun", {}}};
  for (Runtime& rt : runtimes) {
    std::string bundle = work + "/bundle-" + rt.name;
    if (!berth::MkdirAll(bundle).ok() || !berth::PathExists(rt.binary) ||
        !WriteBundle(bundle, rootfs, cgroup + "/" + rt.name)) {
      std::fprintf(stderr, "%s: not available, skipped\n", rt.name.c_str());
      rt.broken = true;
    }
  }
  for (int round = 0; round < rounds; ++round) {
    for (Runtime& rt : runtimes) {
      if (rt.broken) continue;
      if (!RunOnce(rt, work + "/root-" + rt.name, work + "/bundle-" + rt.name, round))
        rt.broken = true;
    }
  }
  (void)berth::RemoveAll(work);
  RemoveBenchCgroups(cgroup, runtimes);

  const Runtime& berth_rt = runtimes[0];
  if (berth_rt.ms.empty()) {
    std::fprintf(stderr, "runtime-start: berth produced no samples\n");
    return 1;
  }
  double berth_median = Percentile(berth_rt.ms, 0.5);
  std::printf("runtime-start: %d sequential `run` of /bin/true per runtime\n", rounds);
  std::printf("%-8s %10s %10s %12s\n", "runtime", "median ms", "p90 ms", "berth/this");
  for (const Runtime& rt : runtimes) {
    if (rt.ms.empty()) {
      std::printf("%-8s %10s %10s %12s\n", rt.name.c_str(), "-", "-", "n/a");
      continue;
    }
    double median = Percentile(rt.ms, 0.5);
    std::printf("%-8s %10.2f %10.2f %12.2f\n", rt.name.c_str(), median, Percentile(rt.ms, 0.9),
                berth_median / median);
  }
  return 0;
}
