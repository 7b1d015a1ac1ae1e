// berth-runc's cgroup v2 limits enforced for real, in the vm tier's guest
// (pure cgroup v2, every controller): memory.max OOM-kills and is reported
// (exit status, `events`), pids.max stops a fork loop, cpu.max throttles,
// pause freezes and resume thaws, and `update` changes limits of a live
// container.
//
// It writes cgroups, so it runs only inside the harness's guest (kernel
// command line "berth.vm=1"); anywhere else it skips (fails in CI). Each
// test's berth cgroup root is /berth-vmrt-<pid>-<n>, a child of the guest's
// root cgroup, removed at the end with everything in it; the guest root's
// cgroup.subtree_control is the one write outside it, made only in the
// disposable guest so that the test root gets controllers.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "cgroups/cgroupfs.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/vm-runtime/runc_kit.h"

namespace berth::integration {
namespace {

namespace bj = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kCgroupMount[] = "/sys/fs/cgroup";

std::string Read(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.error().str();
  return text.ok() ? std::string(Trim(*text)) : "";
}

// One "key value" line of a flat-keyed cgroup file (memory.events, cpu.stat).
int64_t KeyValue(const std::string& path, const std::string& key) {
  for (const std::string& line : SplitNonEmpty(Read(path), '\n')) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.size() == 2 && f[0] == key) {
      Result<int64_t> v = ParseInt<int64_t>(f[1], key);
      if (v.ok()) return *v;
    }
  }
  ADD_FAILURE() << "no " << key << " in " << path;
  return -1;
}

int ExitCode(const CommandResult& r) {
  return r.term_signal ? 128 + r.term_signal : r.exit_code;
}

class RuntimeVmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE_VM();
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    // The guest's root hands every controller to its children.
    Result<std::vector<std::string>> all =
        cgroups::ReadKnobWords(kCgroupMount, "cgroup.controllers");
    ASSERT_TRUE(all.ok()) << all.error().str();
    for (const std::string& c : *all)
      (void)cgroups::WriteKnob(kCgroupMount, "cgroup.subtree_control", "+" + c);

    static std::atomic<int> counter{0};
    root_name_ = "berth-vmrt-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    cgroup_root_ = std::string(kCgroupMount) + "/" + root_name_;
    ASSERT_FALSE(PathExists(cgroup_root_));
    tmp_ = std::make_unique<testing::TempDir>("berth-vmrt");
    ASSERT_TRUE(MkdirAll(tmp_->path() + "/state", 0700).ok());
    runc_ = std::make_unique<BerthRunc>(testing::BuiltBinary("cmd/berth-runc"),
                                        tmp_->path() + "/state", "/" + root_name_);
    rootfs_ = testing::BuiltBinary("integration/fixtures/busybox-rootfs");
    ASSERT_TRUE(PathExists(rootfs_ + "/bin/berth-probe")) << rootfs_ << " is not built";
  }

  void TearDown() override {
    if (!runc_) return;
    for (const std::string& id : ids_)
      (void)runc_->Run({"delete", "--force", id});
    // Only this test's containers can be in its root.
    if (PathExists(cgroup_root_)) {
      (void)cgroups::WriteKnob(cgroup_root_, "cgroup.kill", "1");
      (void)cgroups::WriteKnob(cgroup_root_, "cgroup.freeze", "0");
      Status removed = cgroups::RemoveCgroup(cgroup_root_);
      EXPECT_TRUE(removed.ok()) << removed.error().str();
    }
    ReapChildren();
    EXPECT_FALSE(PathExists(cgroup_root_)) << cgroup_root_ << " left behind";
  }

  // A bundle for container `id` in the cgroup <test root>/<id>.
  Result<Bundle> MakeBundle(const std::string& id, const std::vector<std::string>& args) {
    Bundle b = BERTH_TRY(
        Bundle::Make(testing::BuiltBinary("cmd/berth-runc"), tmp_->path() + "/" + id, rootfs_));
    b.SetArgs(args);
    b.SetCgroupsPath(id);
    ids_.push_back(id);
    return b;
  }

  std::string CgroupFile(const std::string& id, const std::string& file) const {
    return cgroup_root_ + "/" + id + "/" + file;
  }

  // create + start; the container's stdout/stderr go to <tmp>/<id>.out.
  // Returns the init's pid (our child: we are the subreaper).
  pid_t CreateAndStart(const Bundle& bundle, const std::string& id) {
    Status s = runc_->Create(bundle.dir(), id, Output(id));
    EXPECT_TRUE(s.ok()) << s.error().str();
    Result<pid_t> pid = runc_->InitPid(id);
    EXPECT_TRUE(pid.ok()) << (pid.ok() ? "" : pid.error().str());
    Result<CommandResult> start = runc_->Run({"start", id});
    EXPECT_TRUE(start.ok() && start->success()) << (start.ok() ? start->err : start.error().str());
    return pid.ok() ? *pid : -1;
  }

  std::string Output(const std::string& id) const { return tmp_->path() + "/" + id + ".out"; }
  std::string ReadOutput(const std::string& id) const {
    Result<std::string> text = ReadFile(Output(id));
    return text.ok() ? *text : "";
  }

  // Kills and deletes a container started by CreateAndStart; returns the
  // init's wait status.
  // A bundle running `args` under memory.max 32M with no swap.
  Result<Bundle> MakeMemoryLimitedBundle(const std::string& id,
                                         const std::vector<std::string>& args) {
    Bundle b = BERTH_TRY(MakeBundle(id, args));
    bj::object memory;
    memory["limit"] = 32 << 20;
    memory["swap"] = 32 << 20;  // memory+swap == memory: no swap
    b.resources()["memory"] = std::move(memory);
    BERTH_TRY(b.Write());
    return b;
  }

  // `events` in the background, once it has printed a baseline.
  Result<Background> StartEvents(const std::string& id) {
    Background events =
        BERTH_TRY(Background::Start(runc_->Argv({"events", "--interval", "100ms", id}),
                                    tmp_->path() + "/events-" + id + ".out"));
    if (!WaitUntil([&] { return events.Output().find("\"type\":\"stats\"") != std::string::npos; },
                   seconds(60))) {
      return Error(Errc::kDeadlineExceeded, "events printed no stats: " + events.Output());
    }
    return events;
  }

  // Creates the container, attaches `events` (baseline printed), starts it.
  struct Watched {
    pid_t init = -1;
    Background events;
  };
  Result<Watched> CreateWatchAndStart(const Bundle& b, const std::string& id) {
    BERTH_TRY(runc_->Create(b.dir(), id, Output(id)));
    Watched w;
    w.init = BERTH_TRY(runc_->InitPid(id));
    w.events = BERTH_TRY(StartEvents(id));
    CommandResult start = BERTH_TRY(runc_->Run({"start", id}));
    if (!start.success()) return Error(Errc::kInternal, "start " + id + ": " + start.err);
    return w;
  }

  int KillAndDelete(const std::string& id, pid_t init) {
    Result<CommandResult> kill = runc_->Run({"kill", id, "KILL"});
    EXPECT_TRUE(kill.ok() && kill->success()) << (kill.ok() ? kill->err : kill.error().str());
    std::optional<int> status = WaitChild(init, seconds(60));
    EXPECT_TRUE(status.has_value()) << "the init " << init << " was not reaped after kill";
    Result<CommandResult> del = runc_->Run({"delete", id});
    EXPECT_TRUE(del.ok() && del->success()) << (del.ok() ? del->err : del.error().str());
    EXPECT_FALSE(PathExists(cgroup_root_ + "/" + id)) << "delete left the container's cgroup";
    return status.value_or(-1);
  }

  std::unique_ptr<testing::TempDir> tmp_;
  std::unique_ptr<BerthRunc> runc_;
  std::string root_name_, cgroup_root_, rootfs_;
  std::vector<std::string> ids_;
};

// memory.max 32M, 64M touched by the init: the kernel OOM-kills it, the
// container exits as killed by SIGKILL, memory.events counts the kill.
TEST_F(RuntimeVmTest, MemoryLimitOomKillsTheInit) {
  const std::string id = "oom-init";
  Result<Bundle> made = MakeMemoryLimitedBundle(id, {"/bin/berth-probe", "memhog", "64"});
  ASSERT_TRUE(made.ok()) << made.error().str();
  Bundle& b = *made;

  Result<CommandResult> run = runc_->Run({"run", "--keep", "--bundle", b.dir(), id});
  ASSERT_TRUE(run.ok()) << run.error().str();
  EXPECT_EQ(run->exit_code, 128 + SIGKILL)
      << run->Describe() << "\nout: " << run->out << "\nerr: " << run->err;
  EXPECT_EQ(run->out.find("memhog: allocated"), std::string::npos) << run->out;
  EXPECT_EQ(Read(CgroupFile(id, "memory.max")), "33554432");
  EXPECT_GE(KeyValue(CgroupFile(id, "memory.events"), "oom_kill"), 1);
  Result<std::string> status = runc_->ContainerStatus(id);
  ASSERT_TRUE(status.ok()) << status.error().str();
  EXPECT_EQ(*status, "stopped");
  Result<CommandResult> del = runc_->Run({"delete", id});
  ASSERT_TRUE(del.ok() && del->success()) << (del.ok() ? del->err : del.error().str());
  EXPECT_FALSE(PathExists(cgroup_root_ + "/" + id));
}

// The same limit with a shell as init: the OOM killer takes memhog, the
// container keeps running, and `events` reports {"type":"oom"}.
TEST_F(RuntimeVmTest, OomInARunningContainerIsAnEvent) {
  const std::string id = "oom-event";
  Result<Bundle> made = MakeMemoryLimitedBundle(
      id, {"sh", "-c", "/bin/berth-probe memhog 64; echo memhog-exit=$?; exec sleep 600"});
  ASSERT_TRUE(made.ok()) << made.error().str();
  Bundle& b = *made;

  // Events first, so it has a baseline before the OOM.
  Result<Watched> watched = CreateWatchAndStart(b, id);
  ASSERT_TRUE(watched.ok()) << watched.error().str();
  Background& events = watched->events;

  ASSERT_TRUE(WaitUntil([&] { return ReadOutput(id).find("memhog-exit=") != std::string::npos; },
                        seconds(120)))
      << ReadOutput(id);
  EXPECT_NE(ReadOutput(id).find("memhog-exit=137"), std::string::npos) << ReadOutput(id);
  EXPECT_TRUE(WaitUntil(
      [&] { return events.Output().find("{\"type\":\"oom\"") != std::string::npos; }, seconds(30)))
      << "no oom event: " << events.Output().substr(0, 2000);
  EXPECT_GE(KeyValue(CgroupFile(id, "memory.events"), "oom_kill"), 1);

  // One snapshot: the limit as runc reports it.
  Result<CommandResult> stats = runc_->Run({"events", "--stats", id});
  ASSERT_TRUE(stats.ok() && stats->success()) << (stats.ok() ? stats->err : stats.error().str());
  Result<bj::value> doc = json::Parse(stats->out, "events --stats");
  ASSERT_TRUE(doc.ok()) << doc.error().str();
  EXPECT_EQ(doc->at("type").as_string(), "stats");
  EXPECT_EQ(doc->at("data").at("memory").at("usage").at("limit").to_number<int64_t>(), 32 << 20)
      << stats->out;

  int status = KillAndDelete(id, watched->init);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // events ends by itself once the container is gone.
  std::optional<int> ended = events.Wait(seconds(30));
  ASSERT_TRUE(ended.has_value()) << "events did not exit after the container stopped";
  EXPECT_EQ(ExitCodeFromWaitStatus(*ended), 0) << events.Output().substr(0, 2000);
}

// The init itself OOM-killed: the container stops, and `events` still ends
// its stream with {"type":"oom"} (read from the cgroup after the stop).
TEST_F(RuntimeVmTest, OomKilledInitEndsEventsWithAnOom) {
  const std::string id = "oom-init-event";
  Result<Bundle> made = MakeMemoryLimitedBundle(id, {"/bin/berth-probe", "memhog", "64"});
  ASSERT_TRUE(made.ok()) << made.error().str();
  Result<Watched> watched = CreateWatchAndStart(*made, id);
  ASSERT_TRUE(watched.ok()) << watched.error().str();
  std::optional<int> status = WaitChild(watched->init, seconds(120));
  ASSERT_TRUE(status.has_value()) << "the OOM-killed init was not reaped";
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << *status;
  std::optional<int> ended = watched->events.Wait(seconds(30));
  ASSERT_TRUE(ended.has_value()) << "events did not exit after the container stopped";
  EXPECT_NE(watched->events.Output().find("{\"type\":\"oom\""), std::string::npos)
      << watched->events.Output().substr(0, 2000);
  Result<CommandResult> del = runc_->Run({"delete", id});
  EXPECT_TRUE(del.ok() && del->success()) << (del.ok() ? del->err : del.error().str());
}

// pids.max 10: the init plus 9 children; the 10th fork fails with EAGAIN.
TEST_F(RuntimeVmTest, PidsLimitStopsAForkLoop) {
  const std::string id = "pids";
  Result<Bundle> made = MakeBundle(id, {"/bin/berth-probe", "forkloop", "50"});
  ASSERT_TRUE(made.ok()) << made.error().str();
  Bundle& b = *made;
  bj::object pids;
  pids["limit"] = 10;
  b.resources()["pids"] = std::move(pids);
  ASSERT_TRUE(b.Write().ok());

  Result<CommandResult> run = runc_->Run({"run", "--keep", "--bundle", b.dir(), id});
  ASSERT_TRUE(run.ok()) << run.error().str();
  EXPECT_EQ(ExitCode(*run), 1) << run->out << run->err;  // not all 50 forks worked
  EXPECT_NE(run->out.find("forkloop: forked 9 of 50"), std::string::npos) << run->out;
  EXPECT_NE(run->out.find("first error: EAGAIN"), std::string::npos) << run->out;
  EXPECT_EQ(Read(CgroupFile(id, "pids.max")), "10");
  EXPECT_GE(KeyValue(CgroupFile(id, "pids.events"), "max"), 1);
  Result<CommandResult> del = runc_->Run({"delete", id});
  ASSERT_TRUE(del.ok() && del->success()) << (del.ok() ? del->err : del.error().str());
}

// cpu.max 20000/100000: a spinning process gets about a fifth of a CPU and
// the cgroup counts throttled periods; `events --stats` reports them too.
TEST_F(RuntimeVmTest, CpuQuotaThrottles) {
  const std::string id = "cpu";
  Result<Bundle> made = MakeBundle(id, {"sh", "-c", "/bin/berth-probe spin 2; exec sleep 600"});
  ASSERT_TRUE(made.ok()) << made.error().str();
  Bundle& b = *made;
  bj::object cpu;
  cpu["quota"] = 20000;
  cpu["period"] = 100000;
  b.resources()["cpu"] = std::move(cpu);
  ASSERT_TRUE(b.Write().ok());

  pid_t init = CreateAndStart(b, id);
  ASSERT_GT(init, 0);
  EXPECT_EQ(Read(CgroupFile(id, "cpu.max")), "20000 100000");
  ASSERT_TRUE(WaitUntil([&] { return ReadOutput(id).find("spin: wall") != std::string::npos; },
                        seconds(120)))
      << ReadOutput(id);
  double wall = 0, cpu_s = 0;
  ASSERT_EQ(std::sscanf(ReadOutput(id).c_str(), "spin: wall %lf cpu %lf", &wall, &cpu_s), 2)
      << ReadOutput(id);
  EXPECT_LT(cpu_s, wall * 0.5) << ReadOutput(id);
  EXPECT_GT(KeyValue(CgroupFile(id, "cpu.stat"), "nr_throttled"), 0);

  Result<CommandResult> stats = runc_->Run({"events", "--stats", id});
  ASSERT_TRUE(stats.ok() && stats->success()) << (stats.ok() ? stats->err : stats.error().str());
  Result<bj::value> doc = json::Parse(stats->out, "events --stats");
  ASSERT_TRUE(doc.ok()) << doc.error().str();
  const bj::object& throttling = doc->at("data").at("cpu").at("throttling").as_object();
  ASSERT_TRUE(throttling.contains("throttledPeriods")) << stats->out;
  EXPECT_GT(throttling.at("throttledPeriods").to_number<int64_t>(), 0) << stats->out;
  KillAndDelete(id, init);
}

// pause freezes the container (a counter stops), resume thaws it.
TEST_F(RuntimeVmTest, PauseFreezesAndResumeContinues) {
  const std::string id = "pause";
  std::string out = tmp_->path() + "/pause-out";
  ASSERT_TRUE(MkdirAll(out, 0777).ok());
  Result<Bundle> made = MakeBundle(
      id,
      {"sh", "-c",
       "i=0; while :; do i=$((i+1)); echo $i > /out/c; mv /out/c /out/count; usleep 50000; done"});
  ASSERT_TRUE(made.ok()) << made.error().str();
  Bundle& b = *made;
  b.AddBind(out, "/out");
  ASSERT_TRUE(b.Write().ok());
  auto count = [&] {
    Result<std::string> text = ReadFile(out + "/count");
    Result<int64_t> v = ParseInt<int64_t>(text.ok() ? Trim(*text) : "", "count");
    return v.ok() ? *v : int64_t{-1};
  };

  pid_t init = CreateAndStart(b, id);
  ASSERT_GT(init, 0);
  ASSERT_TRUE(WaitUntil([&] { return count() > 0; }, seconds(60))) << ReadOutput(id);

  Result<CommandResult> pause = runc_->Run({"pause", id});
  ASSERT_TRUE(pause.ok() && pause->success()) << (pause.ok() ? pause->err : pause.error().str());
  Result<std::string> status = runc_->ContainerStatus(id);
  ASSERT_TRUE(status.ok()) << status.error().str();
  EXPECT_EQ(*status, "paused");
  EXPECT_EQ(Read(CgroupFile(id, "cgroup.freeze")), "1");
  EXPECT_GE(KeyValue(CgroupFile(id, "cgroup.events"), "frozen"), 1);
  int64_t frozen_at = count();
  ASSERT_GT(frozen_at, 0);
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(count(), frozen_at) << "the counter advanced while paused";

  Result<CommandResult> resume = runc_->Run({"resume", id});
  ASSERT_TRUE(resume.ok() && resume->success())
      << (resume.ok() ? resume->err : resume.error().str());
  status = runc_->ContainerStatus(id);
  ASSERT_TRUE(status.ok()) << status.error().str();
  EXPECT_EQ(*status, "running");
  EXPECT_EQ(Read(CgroupFile(id, "cgroup.freeze")), "0");
  EXPECT_TRUE(WaitUntil([&] { return count() > frozen_at; }, seconds(30)))
      << "no progress after resume";
  KillAndDelete(id, init);
}

// update: memory.max (flag and --resources), pids.max and cpu.max change on
// a running container, and the new memory limit is enforced at once.
TEST_F(RuntimeVmTest, UpdateChangesLimitsLive) {
  const std::string id = "update";
  Result<Bundle> made = MakeBundle(id, {"/bin/berth-probe", "sleep", "600"});
  ASSERT_TRUE(made.ok()) << made.error().str();
  Bundle& b = *made;
  bj::object memory;
  memory["limit"] = 64 << 20;
  b.resources()["memory"] = std::move(memory);
  ASSERT_TRUE(b.Write().ok());
  pid_t init = CreateAndStart(b, id);
  ASSERT_GT(init, 0);
  EXPECT_EQ(Read(CgroupFile(id, "memory.max")), std::to_string(64 << 20));

  Result<CommandResult> up = runc_->Run({"update", "--memory", "48M", id});
  ASSERT_TRUE(up.ok() && up->success()) << (up.ok() ? up->err : up.error().str());
  EXPECT_EQ(Read(CgroupFile(id, "memory.max")), std::to_string(48 << 20));

  std::string resources = tmp_->path() + "/resources.json";
  ASSERT_TRUE(WriteFile(resources, R"({"memory":{"limit":41943040},"pids":{"limit":20},)"
                                   R"("cpu":{"quota":50000,"period":100000}})")
                  .ok());
  up = runc_->Run({"update", "--resources", resources, id});
  ASSERT_TRUE(up.ok() && up->success()) << (up.ok() ? up->err : up.error().str());
  EXPECT_EQ(Read(CgroupFile(id, "memory.max")), "41943040");
  EXPECT_EQ(Read(CgroupFile(id, "pids.max")), "20");
  EXPECT_EQ(Read(CgroupFile(id, "cpu.max")), "50000 100000");

  // The 40M limit holds for new processes: 16M fits, 64M is OOM-killed.
  Result<CommandResult> small = runc_->Run({"exec", id, "/bin/berth-probe", "memhog", "16"});
  ASSERT_TRUE(small.ok()) << small.error().str();
  EXPECT_EQ(ExitCode(*small), 0) << small->out << small->err;
  Result<CommandResult> big = runc_->Run({"exec", id, "/bin/berth-probe", "memhog", "64"});
  ASSERT_TRUE(big.ok()) << big.error().str();
  EXPECT_EQ(ExitCode(*big), 128 + SIGKILL) << big->out << big->err;
  EXPECT_GE(KeyValue(CgroupFile(id, "memory.events"), "oom_kill"), 1);
  KillAndDelete(id, init);
}

}  // namespace
}  // namespace berth::integration
