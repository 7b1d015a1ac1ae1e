// berth's placement and limits against Debian's runc 1.1.5 on this very
// host: runc runs a busybox container with a relative linux.cgroupsPath,
// the test records where runc put it (/proc/<pid>/cgroup, state.json's
// cgroup_paths, the directories it made) and what it wrote; then berth does
// the same from the same config.json and must match.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <set>

#include "cgroups/tests/priv_util.h"
#include "common/json.h"
#include "common/process.h"

namespace berth::cgroups {
namespace {

namespace bj = boost::json;
using testing::Child;
using testing::ProcCgroup;
using testing::Read;
using testing::TestRoot;

constexpr const char* kRunc = "/usr/bin/runc";
constexpr const char* kBusybox = "/bin/busybox";

Result<CommandResult> Sh(const std::string& script) {
  Command c;
  c.argv = {"/bin/sh", "-c", script};
  c.timeout = std::chrono::seconds(60);
  return RunCommand(c);
}

// Every directory named `name` (and below) in each hierarchy, relative to
// the mount root: what a runtime created.
std::set<std::string> CreatedDirs(const std::string& mount_root, const std::string& name) {
  Result<CommandResult> r =
      Sh("cd " + mount_root + " && find . -path '*/" + name + "*' -type d | sort");
  EXPECT_TRUE(r.ok() && r->success());
  std::set<std::string> out;
  for (const std::string& line : SplitNonEmpty(r.ok() ? r->out : "", '\n'))
    out.insert(line);
  return out;
}

struct RuncObservation {
  std::map<std::string, std::string> proc_cgroup;   // of the container's init
  std::map<std::string, std::string> cgroup_paths;  // state.json, "" -> "unified"
  std::set<std::string> dirs;
  std::map<std::string, std::string> knobs;  // key/file -> content
  bj::value stats;
};

class RuncCompatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root");
    BERTH_REQUIRE(PathExists(kRunc) && PathExists(kBusybox), "runc and busybox-static");
    Result<Layout> layout = Detect();
    ASSERT_TRUE(layout.ok()) << layout.error().str();
    layout_ = *layout;
    name_ = testing::UniqueName("berth-test");
    id_ = name_ + "-runc";
    state_ = tmp_ / "state";
    // The berth root <own>/<name> holds runc's container too: TestRoot
    // removes it (and whatever runc leaves in it) at the end.
    ResolveOptions o;
    o.berth_root = name_;
    o.cgroups_path = "c1";
    Result<Placement> p = Resolve(layout_, o);
    ASSERT_TRUE(p.ok()) << p.error().str();
    placement_ = *p;
    root_ = std::make_unique<TestRoot>(placement_);
    MakeBundle();
  }

  void TearDown() override {
    (void)Sh(std::string(kRunc) + " --root " + state_ + " delete -f " + id_ + " >/dev/null 2>&1");
    if (root_) root_->ExpectNothingLeft();
  }

  void MakeBundle() {
    std::string bundle = tmp_ / "bundle";
    std::string script = "set -e; mkdir -p " + bundle + "/rootfs/bin && cd " + bundle + " && " +
                         kRunc + " spec && cp " + kBusybox +
                         " rootfs/bin/ && for a in sh sleep cat; do ln -s busybox rootfs/bin/$a; "
                         "done";
    Result<CommandResult> r = Sh(script);
    ASSERT_TRUE(r.ok() && r->success()) << (r.ok() ? r->err : r.error().str());
    bj::value config = bj::parse(Read(bundle + "/config.json"));
    bj::object& c = config.as_object();
    c["process"].as_object()["terminal"] = false;
    c["process"].as_object()["args"] = bj::array{"sleep", "1000"};
    bj::object& linux = c["linux"].as_object();
    linux["cgroupsPath"] = name_ + "/c1";
    bj::object& res = linux["resources"].as_object();
    res["memory"] = bj::object{{"limit", 33554432}, {"reservation", 16777216}};
    res["pids"] = bj::object{{"limit", 64}};
    res["cpu"] = bj::object{{"shares", 512}, {"quota", 20000}, {"period", 100000}};
    config_ = config;
    ASSERT_OK(WriteFile(bundle + "/config.json", bj::serialize(config)));
  }

  // `run -d` leaves the container holding runc's stdio: it must not be our
  // capture pipe, or reading it would wait for the container to exit.
  std::string Runc(const std::string& args, bool capture = true) {
    Result<CommandResult> r =
        Sh(std::string(kRunc) + " --root " + state_ + " " + args + " </dev/null 2>" +
           (tmp_ / "runc.err") + (capture ? "" : " >/dev/null"));
    EXPECT_TRUE(r.ok() && r->success()) << args << ": " << Read(tmp_ / "runc.err");
    return r.ok() ? r->out : "";
  }

  std::map<std::string, std::string> Knobs(const std::map<std::string, std::string>& paths) {
    std::map<std::string, std::string> out;
    for (const auto& [key, file] :
         std::vector<std::pair<std::string, std::string>>{{"memory", "memory.limit_in_bytes"},
                                                          {"memory", "memory.soft_limit_in_bytes"},
                                                          {"memory", "memory.memsw.limit_in_bytes"},
                                                          {"pids", "pids.max"},
                                                          {"cpu", "cpu.shares"},
                                                          {"cpu", "cpu.cfs_quota_us"},
                                                          {"cpu", "cpu.cfs_period_us"},
                                                          {"cpuset", "cpuset.cpus"},
                                                          {"cpuset", "cpuset.mems"},
                                                          {"devices", "devices.list"},
                                                          {"freezer", "freezer.state"}}) {
      if (paths.count(key) != 0) out[PathJoin(key, file)] = Read(PathJoin(paths.at(key), file));
    }
    return out;
  }

  RuncObservation RunRunc() {
    RuncObservation o;
    Runc("run -d --bundle " + (tmp_ / "bundle") + " " + id_, false);
    bj::value state = bj::parse(Runc("state " + id_));
    pid_t pid = static_cast<pid_t>(state.at("pid").as_int64());
    o.proc_cgroup = ProcCgroup(pid);
    bj::value saved = bj::parse(Read(state_ + "/" + id_ + "/state.json"));
    for (const auto& kv : saved.at("cgroup_paths").as_object()) {
      std::string key = kv.key().empty() ? kUnified : std::string(kv.key());
      o.cgroup_paths[key] = std::string(kv.value().as_string());
    }
    o.dirs = CreatedDirs(layout_.mount_root, name_);
    o.knobs = Knobs(o.cgroup_paths);
    bj::value events = bj::parse(Runc("events --stats " + id_));
    o.stats = events.at("data");
    Runc("kill " + id_ + " KILL");
    for (int i = 0; i < 100 && Runc("state " + id_).find("\"stopped\"") == std::string::npos; ++i) {
      SleepMs(20);
    }
    Runc("delete " + id_);
    return o;
  }

  Layout layout_;
  berth::testing::TempDir tmp_;
  std::string name_, id_, state_;
  Placement placement_;
  std::unique_ptr<TestRoot> root_;
  bj::value config_;
};

TEST_F(RuncCompatTest, SamePlacementAndLimitsAsRunc) {
  RuncObservation runc = RunRunc();
  ASSERT_FALSE(HasFatalFailure());
  // runc joined every hierarchy (v1 and, on a hybrid host, the unified one)
  // and made <name> and <name>/c1 in each.
  std::set<std::string> mounts;
  for (const auto& [key, dir] : placement_.paths)
    mounts.insert(dir);
  ASSERT_EQ(runc.proc_cgroup.size(), placement_.paths.size());
  ASSERT_EQ(runc.dirs.size(), 2 * mounts.size());
  ASSERT_EQ(runc.knobs.at("memory/memory.limit_in_bytes"), "33554432\n");

  // 1. Resolution alone (runc's relative cgroupsPath, default berth root =
  //    own cgroup, as runc) names the same cgroups.
  ResolveOptions same;
  same.cgroups_path = name_ + "/c1";
  Result<Placement> like_runc = Resolve(layout_, same);
  ASSERT_TRUE(like_runc.ok()) << like_runc.error().str();
  EXPECT_EQ(like_runc->paths, runc.cgroup_paths);
  EXPECT_EQ(like_runc->relative, runc.proc_cgroup);
  EXPECT_EQ(placement_.paths, runc.cgroup_paths);

  // 2. berth creates, limits and joins from the same config.json.
  json::Field linux(&config_.at("linux"), "linux");
  Result<Resources> parsed = ParseResources(linux["resources"]);
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  Resources r = *parsed;
  for (const DeviceRule& d : RuncDefaultAllowedDevices())
    r.devices.push_back(d);  // as runc's specconv
  Result<DriverPtr> driver = Open(placement_);
  ASSERT_TRUE(driver.ok()) << driver.error().str();
  ASSERT_OK((*driver)->Create());
  ASSERT_OK((*driver)->Apply(r));
  Child child;
  ASSERT_OK((*driver)->AddProcess(child.pid()));
  child.Go();

  EXPECT_EQ(ProcCgroup(child.pid()), runc.proc_cgroup);
  EXPECT_EQ(CreatedDirs(layout_.mount_root, name_), runc.dirs);
  EXPECT_EQ(Knobs(placement_.paths), runc.knobs);

  // 3. Stats render with runc's sections and entries.
  auto stats = (*driver)->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.error().str();
  bj::value ours = bj::parse(StatsToRuncJson(*stats));
  std::vector<std::string> want_keys, our_keys;
  for (const auto& kv : runc.stats.as_object())
    want_keys.emplace_back(kv.key());
  for (const auto& kv : ours.as_object())
    our_keys.emplace_back(kv.key());
  EXPECT_EQ(our_keys, want_keys);
  for (const char* k : {"usage", "swap", "kernel", "kernelTCP"}) {
    EXPECT_TRUE(ours.at("memory").as_object().contains(k)) << k;
  }
  EXPECT_EQ(ours.at("memory").at("usage").at("limit"),
            runc.stats.at("memory").at("usage").at("limit"));
  EXPECT_EQ(ours.at("pids").at("limit"), runc.stats.at("pids").at("limit"));
  EXPECT_EQ(ours.at("cpuset"), runc.stats.at("cpuset"));

  ASSERT_OK((*driver)->Kill(SIGKILL));
  child.Wait();
  ASSERT_TRUE(
      testing::WaitFor([&] { return (*driver)->Pids().ok() && (*driver)->Pids()->empty(); }));
  ASSERT_OK((*driver)->Destroy());
}

}  // namespace
}  // namespace berth::cgroups
