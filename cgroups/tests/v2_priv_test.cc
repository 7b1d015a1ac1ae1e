// The v2 driver for real on whatever cgroup2 hierarchy this host has: on a
// hybrid host (like the development machines) that is the controller-less
// /sys/fs/cgroup/unified, where membership, the freezer, cgroup.kill and
// BPF device filters all work without controllers. Limits are covered by
// the vm tier (v2_vm_test.cc).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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

// The number of BPF_CGROUP_DEVICE programs attached directly to `dir`.
int AttachedDevicePrograms(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  uint32_t ids[16];
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = static_cast<uint32_t>(fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<uintptr_t>(ids);
  attr.query.prog_cnt = 16;
  int r = static_cast<int>(::syscall(__NR_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)));
  ::close(fd);
  return r == 0 ? static_cast<int>(attr.query.prog_cnt) : -1;
}

// Bits of the child's exit code: which opens succeeded.
enum : int { kNullRead = 1, kNullWrite = 2, kZeroRead = 4, kFullRead = 8 };

int ProbeDevices() {
  int ok = 0;
  auto try_open = [](const char* path, int flags) {
    int fd = ::open(path, flags | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  };
  if (try_open("/dev/null", O_RDONLY)) ok |= kNullRead;
  if (try_open("/dev/null", O_WRONLY)) ok |= kNullWrite;
  if (try_open("/dev/zero", O_RDONLY)) ok |= kZeroRead;
  if (try_open("/dev/full", O_RDONLY)) ok |= kFullRead;
  return ok;
}

class V2PrivTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root");
    Result<Layout> host = Detect();
    ASSERT_TRUE(host.ok()) << host.error().str();
    BERTH_REQUIRE(!host->unified_mount.empty(), "a cgroup2 hierarchy");
    Result<Layout> layout = host->mode == Mode::kV2 ? host : Detect(host->unified_mount);
    ASSERT_TRUE(layout.ok()) << layout.error().str();
    ASSERT_EQ(layout->mode, Mode::kV2);
    ResolveOptions o;
    o.berth_root = testing::UniqueName("berth-test");
    o.container_id = "c1";
    Result<Placement> p = Resolve(*layout, o);
    ASSERT_TRUE(p.ok()) << p.error().str();
    placement_ = *p;
    dir_ = placement_.paths.at(kUnified);
    root_ = std::make_unique<TestRoot>(placement_);
    Result<DriverPtr> d = Open(placement_);
    ASSERT_TRUE(d.ok()) << d.error().str();
    driver_ = std::move(d).value();
    ASSERT_OK(driver_->Create());
  }
  void TearDown() override {
    driver_.reset();
    if (root_) root_->ExpectNothingLeft();
  }

  // Runs ProbeDevices in a child inside the cgroup; returns its bits.
  int Probe() {
    Child child(ProbeDevices);
    Status s = driver_->AddProcess(child.pid());
    EXPECT_TRUE(s.ok()) << s.error().str();
    child.Go();
    int status = child.Wait();
    EXPECT_TRUE(WIFEXITED(status)) << status;
    return WEXITSTATUS(status);
  }

  Placement placement_;
  std::string dir_;
  std::unique_ptr<TestRoot> root_;
  DriverPtr driver_;
};

TEST_F(V2PrivTest, DeviceFilterDeniesAndAllows) {
  Resources r;
  r.devices = {{false, 'a', std::nullopt, std::nullopt, "rwm"},
               {true, 'c', 1, 3, "r"},     // /dev/null read-only
               {true, 'c', 1, 5, "rwm"}};  // /dev/zero
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(AttachedDevicePrograms(dir_), 1);
  EXPECT_EQ(Probe(), kNullRead | kZeroRead);

  // An update replaces berth's previous program: still one attached.
  r.devices[1].access = "rwm";
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(AttachedDevicePrograms(dir_), 1);
  EXPECT_EQ(Probe(), kNullRead | kNullWrite | kZeroRead);

  // runc's defaults: the standard nodes, /dev/full included.
  Resources defaults;
  defaults.devices = {{false, 'a', std::nullopt, std::nullopt, "rwm"}};
  for (const DeviceRule& d : RuncDefaultAllowedDevices())
    defaults.devices.push_back(d);
  ASSERT_OK(driver_->Apply(defaults));
  EXPECT_EQ(Probe(), kNullRead | kNullWrite | kZeroRead | kFullRead);
  EXPECT_EQ(AttachedDevicePrograms(dir_), 1);
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V2PrivTest, MembershipFreezerAndCgroupKill) {
  SharedCounter counter;
  Child child(testing::SpinWithGrandchild(counter));
  ASSERT_OK(driver_->AddProcess(child.pid()));
  child.Go();
  EXPECT_EQ(ProcCgroup(child.pid())[kUnified], placement_.relative.at(kUnified));
  ASSERT_TRUE(WaitFor([&] { return driver_->Pids().ok() && driver_->Pids()->size() == 2; }));

  ASSERT_OK(driver_->Freeze());
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kFrozen);
  EXPECT_NE(Read(dir_ + "/cgroup.events").find("frozen 1"), std::string::npos);
  uint64_t frozen_at = counter.Get();
  SleepMs(200);
  EXPECT_EQ(counter.Get(), frozen_at);
  ASSERT_OK(driver_->Thaw());
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kThawed);
  EXPECT_TRUE(WaitFor([&] { return counter.Get() > frozen_at; }));

  // SIGKILL goes through cgroup.kill: the forked grandchild dies as well.
  ASSERT_TRUE(KnobExists(dir_, "cgroup.kill"));
  ASSERT_OK(driver_->Kill(SIGKILL));
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE(WaitFor([&] { return driver_->Pids().ok() && driver_->Pids()->empty(); }));
  auto stats = driver_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.error().str();
  EXPECT_GT(stats->cpu.total, 0u);
  ASSERT_OK(driver_->Destroy());
  EXPECT_FALSE(PathExists(dir_));
}

// Kill with a catchable signal on a paused container leaves it paused (the
// v2 freezer still lets a task with a fatal signal exit: the cgroup reads
// "freezing" until it is gone, then "frozen" again).
TEST_F(V2PrivTest, SignalWhilePaused) {
  Child child;
  ASSERT_OK(driver_->AddProcess(child.pid()));
  child.Go();
  ASSERT_OK(driver_->Freeze());
  ASSERT_OK(driver_->Kill(SIGTERM));
  EXPECT_EQ(Read(dir_ + "/cgroup.freeze"), "1\n");
  EXPECT_TRUE(WaitFor([&] { return *driver_->GetFreezerState() == FreezerState::kFrozen; }));
  ASSERT_OK(driver_->Thaw());
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  ASSERT_OK(driver_->Destroy());
}

}  // namespace
}  // namespace berth::cgroups
