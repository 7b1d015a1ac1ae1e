// The v2 driver for real, in the vm tier's guest (pure cgroup v2 with every
// controller): limits the kernel enforces (memory.max with OOM kills,
// pids.max, cpu.max), the freezer, cgroup.kill, the BPF device filter,
// stats, and the no-internal-processes error.
//
// It writes cgroups, so it runs only inside the harness's guest (kernel
// command line "berth.vm=1"); anywhere else it skips (fails in CI). Each
// test's berth root is a child of the guest's root cgroup, removed at the
// end; the guest root's subtree_control is the one write outside it, made
// in the disposable guest only so that the berth root gets controllers.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstring>

#include "cgroups/tests/priv_util.h"

namespace berth::cgroups {
namespace {

using testing::Child;
using testing::ProcCgroup;
using testing::Read;
using testing::SharedCounter;
using testing::TestRoot;
using testing::WaitFor;

// The guest's root hands every controller to its children.
void EnableGuestRootControllers(const std::string& mount) {
  Result<std::vector<std::string>> all = ReadKnobWords(mount, "cgroup.controllers");
  ASSERT_TRUE(all.ok());
  for (const std::string& c : *all)
    (void)WriteKnob(mount, "cgroup.subtree_control", "+" + c);
}

class V2VmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE_VM();
    Result<Layout> layout = Detect();
    ASSERT_TRUE(layout.ok()) << layout.error().str();
    ASSERT_EQ(layout->mode, Mode::kV2);
    EnableGuestRootControllers(layout->unified_mount);
    ResolveOptions o;
    o.berth_root = "/" + testing::UniqueName("berth-vm");
    o.cgroups_path = "pod/c1";
    Result<Placement> p = Resolve(*layout, o);
    ASSERT_TRUE(p.ok()) << p.error().str();
    placement_ = *p;
    dir_ = placement_.paths.at(kUnified);
    root_dir_ = placement_.roots.at(kUnified);
    root_ = std::make_unique<TestRoot>(placement_);
    Result<DriverPtr> d = Open(placement_);
    ASSERT_TRUE(d.ok()) << d.error().str();
    driver_ = std::move(d).value();
  }
  void TearDown() override {
    driver_.reset();
    if (root_) root_->ExpectNothingLeft();
  }

  // Runs `body` in a child inside the cgroup; returns its wait status.
  int RunInside(std::function<int()> body) {
    Child child(std::move(body));
    Status s = driver_->AddProcess(child.pid());
    EXPECT_TRUE(s.ok()) << s.error().str();
    child.Go();
    return child.Wait();
  }

  Placement placement_;
  std::string dir_, root_dir_;
  std::unique_ptr<TestRoot> root_;
  DriverPtr driver_;
};

TEST_F(V2VmTest, CreateEnablesControllersDownToTheLeaf) {
  ASSERT_OK(driver_->Create());
  std::string leaf = Read(dir_ + "/cgroup.controllers");
  for (const char* c : {"cpu", "memory", "pids", "io", "cpuset"}) {
    EXPECT_NE(leaf.find(c), std::string::npos) << c << " in " << leaf;
  }
  EXPECT_EQ(std::string(Trim(Read(dir_ + "/cgroup.subtree_control"))), "");  // the leaf keeps none
  ASSERT_OK(driver_->Destroy());
  EXPECT_FALSE(PathExists(dir_));
  EXPECT_TRUE(PathExists(root_dir_ + "/pod"));  // only the container's own directory goes
}

TEST_F(V2VmTest, MemoryMaxOomKillsAndCounts) {
  ASSERT_OK(driver_->Create());
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = 32 << 20;
  r.memory->swap = 32 << 20;  // memory+swap == memory: no swap
  r.memory->reservation = 8 << 20;
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(dir_ + "/memory.max"), "33554432\n");
  EXPECT_EQ(Read(dir_ + "/memory.low"), "8388608\n");
  if (KnobExists(dir_, "memory.swap.max")) {
    EXPECT_EQ(Read(dir_ + "/memory.swap.max"), "0\n");
  }
  int status = RunInside([] {
    for (int i = 0; i < 96; ++i) {
      volatile char* b = static_cast<volatile char*>(::malloc(1 << 20));
      if (b == nullptr) return 2;
      for (int j = 0; j < (1 << 20); j += 4096)
        b[j] = 1;  // volatile: really touched
    }
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  auto kills = driver_->OomKillCount();
  ASSERT_TRUE(kills.ok()) << kills.error().str();
  EXPECT_GE(*kills, 1u);
  auto stats = driver_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.error().str();
  EXPECT_GE(stats->oom_kill, 1u);
  EXPECT_GE(stats->oom, 1u);
  EXPECT_EQ(stats->memory.usage.limit, 33554432u);
  EXPECT_GT(stats->memory.usage.max, 16u << 20);  // memory.peak saw the climb
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V2VmTest, PidsMaxLimitsForks) {
  ASSERT_OK(driver_->Create());
  Resources r;
  r.pids_limit = 4;
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(dir_ + "/pids.max"), "4\n");
  // The child itself counts: 3 forks succeed, the 4th fails with EAGAIN.
  int status = RunInside([] {
    int made = 0;
    for (int i = 0; i < 8; ++i) {
      pid_t p = ::fork();
      if (p == 0) {
        ::pause();
        _exit(0);
      }
      if (p < 0) return errno == EAGAIN ? made : 100;
      ++made;
    }
    return 99;
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);
  auto stats = driver_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->pids.limit, 4u);
  ASSERT_OK(driver_->Kill(SIGKILL));  // the orphaned grandchildren
  EXPECT_TRUE(WaitFor([&] { return driver_->Pids().ok() && driver_->Pids()->empty(); }));
  r.pids_limit = -1;
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(dir_ + "/pids.max"), "max\n");
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V2VmTest, CpuMaxThrottles) {
  ASSERT_OK(driver_->Create());
  Resources r;
  r.cpu = CpuLimits{};
  r.cpu->shares = 1024;
  r.cpu->quota = 10000;
  r.cpu->period = 100000;
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(dir_ + "/cpu.max"), "10000 100000\n");
  EXPECT_EQ(Read(dir_ + "/cpu.weight"), "39\n");
  Child spinner([] {
    volatile uint64_t spins = 0;
    for (;;)
      spins = spins + 1;
    return 0;
  });
  ASSERT_OK(driver_->AddProcess(spinner.pid()));
  spinner.Go();
  SleepMs(1500);
  auto stats = driver_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.error().str();
  EXPECT_GT(stats->cpu.throttled_periods, 0u);
  EXPECT_GT(stats->cpu.total, 0u);
  EXPECT_LT(stats->cpu.total, 800'000'000u);  // 10% of 1.5 s, with slack for TCG
  // An update naming only the period keeps the quota.
  Resources period;
  period.cpu = CpuLimits{};
  period.cpu->period = 50000;
  ASSERT_OK(driver_->Apply(period));
  EXPECT_EQ(Read(dir_ + "/cpu.max"), "10000 50000\n");
  // Unthrottled before the kill, so the spinner is runnable to take its
  // SIGKILL (once, under TCG on a loaded host, the guest stalled here).
  Resources unlimited;
  unlimited.cpu = CpuLimits{};
  unlimited.cpu->quota = -1;
  ASSERT_OK(driver_->Apply(unlimited));
  EXPECT_EQ(Read(dir_ + "/cpu.max"), "max 50000\n");
  ASSERT_OK(driver_->Kill(SIGKILL));
  spinner.Wait();
  EXPECT_TRUE(WaitFor([&] { return driver_->Pids()->empty(); }));
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V2VmTest, FreezeAndCgroupKill) {
  ASSERT_OK(driver_->Create());
  SharedCounter counter;
  Child child(testing::SpinWithGrandchild(counter));
  ASSERT_OK(driver_->AddProcess(child.pid()));
  child.Go();
  EXPECT_EQ(ProcCgroup(child.pid())[kUnified], placement_.relative.at(kUnified));
  ASSERT_TRUE(WaitFor([&] { return counter.Get() > 100 && driver_->Pids()->size() == 2; }));
  ASSERT_OK(driver_->Freeze());
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kFrozen);
  uint64_t frozen_at = counter.Get();
  SleepMs(300);
  EXPECT_EQ(counter.Get(), frozen_at);
  ASSERT_OK(driver_->Thaw());
  EXPECT_TRUE(WaitFor([&] { return counter.Get() > frozen_at; }));
  ASSERT_OK(driver_->Kill(SIGKILL));
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE(WaitFor([&] { return driver_->Pids().ok() && driver_->Pids()->empty(); }));
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V2VmTest, DeviceFilter) {
  ASSERT_OK(driver_->Create());
  auto can_write_null = [] {
    int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno == EPERM ? 1 : 2;
    ::close(fd);
    return 0;
  };
  Resources deny;
  deny.devices = {{false, 'a', std::nullopt, std::nullopt, "rwm"}, {true, 'c', 1, 3, "r"}};
  ASSERT_OK(driver_->Apply(deny));
  int denied = RunInside(can_write_null);
  ASSERT_TRUE(WIFEXITED(denied));
  EXPECT_EQ(WEXITSTATUS(denied), 1);  // EPERM
  Resources allow = deny;
  allow.devices[1].access = "rw";
  ASSERT_OK(driver_->Apply(allow));
  int allowed = RunInside(can_write_null);
  ASSERT_TRUE(WIFEXITED(allowed));
  EXPECT_EQ(WEXITSTATUS(allowed), 0);
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V2VmTest, StatsAndUnified) {
  ASSERT_OK(driver_->Create());
  Resources r;
  r.unified["memory.high"] = "67108864";
  r.unified["pids.max"] = "100";
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(dir_ + "/memory.high"), "67108864\n");
  int status = RunInside([] {
    volatile char* b = static_cast<volatile char*>(::malloc(8 << 20));
    if (b == nullptr) return 2;
    for (int i = 0; i < (8 << 20); i += 4096)
      b[i] = 1;  // volatile: really touched
    volatile uint64_t x = 0;
    for (int i = 0; i < 20000000; ++i)
      x = x + 1;
    return 0;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto stats = driver_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.error().str();
  EXPECT_GT(stats->cpu.total, 0u);
  EXPECT_GT(stats->memory.usage.max, 4u << 20);
  EXPECT_FALSE(stats->memory.raw.empty());
  EXPECT_EQ(stats->pids.limit, 100u);
  boost::json::value json = boost::json::parse(StatsToRuncJson(*stats));
  EXPECT_TRUE(json.at("memory").as_object().contains("raw"));
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V2VmTest, HugetlbIoAndIdle) {
  ASSERT_OK(driver_->Create());
  Resources r;
  if (KnobExists(dir_, "hugetlb.2MB.max")) r.hugepage_limits = {{"2MB", 8 << 20}};
  r.cpu = CpuLimits{};
  r.cpu->idle = 1;
  bool weight = KnobExists(dir_, "io.weight") && !KnobExists(dir_, "io.bfq.weight");
  if (weight) {
    r.block_io = BlockIo{};
    r.block_io->weight = 500;
  }
  ASSERT_OK(driver_->Apply(r));
  if (!r.hugepage_limits.empty()) {
    EXPECT_EQ(Read(dir_ + "/hugetlb.2MB.max"), "8388608\n");
  }
  EXPECT_EQ(Read(dir_ + "/cpu.idle"), "1\n");
  if (weight) {
    EXPECT_EQ(Read(dir_ + "/io.weight"), "default 4950\n");
  }
  Resources bad;
  bad.hugepage_limits = {{"3MB", 1}};
  EXPECT_FALSE(driver_->Apply(bad).ok());
  ASSERT_OK(driver_->Destroy());
}

// A berth root that holds processes cannot hand out controllers: the error
// says why (cgroup v2's no-internal-processes rule) and what to do.
TEST_F(V2VmTest, NoInternalProcessesIsExplained) {
  ASSERT_EQ(::mkdir(root_dir_.c_str(), 0755), 0);
  Child squatter;
  ASSERT_OK(WriteProc(root_dir_, squatter.pid()));
  squatter.Go();
  Status s = driver_->Create();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("no-internal-processes rule"), std::string::npos)
      << s.error().str();
  EXPECT_NE(s.error().str().find("pid " + std::to_string(squatter.pid())), std::string::npos)
      << s.error().str();
  EXPECT_FALSE(PathExists(root_dir_ + "/pod"));  // rolled back
}

}  // namespace
}  // namespace berth::cgroups
