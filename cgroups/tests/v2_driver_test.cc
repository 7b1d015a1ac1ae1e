// The v2 driver against a fake cgroup tree in a temp dir: the knob files are
// written first, then Create/Apply run, then the test checks what was
// written (WriteRecorder sees every write, in order).

#include <gtest/gtest.h>
#include <signal.h>

#include "cgroups/tests/bpf_interpreter.h"
#include "cgroups/tests/test_util.h"
#include "cgroups/v2/driver.h"

namespace berth::cgroups {
namespace {

using testing::Read;
using testing::WriteRecorder;
using testing::WriteTree;

constexpr const char* kAll = "cpuset cpu io memory hugetlb pids rdma misc\n";

std::map<std::string, std::string> LeafFiles(const std::string& leaf) {
  std::map<std::string, std::string> f;
  for (const char* knob :
       {"cgroup.procs", "cgroup.subtree_control", "memory.max", "memory.low", "memory.high",
        "memory.swap.max", "cpu.weight", "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems",
        "pids.max", "io.weight", "io.max", "hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "rdma.max",
        "cgroup.kill"}) {
    f[leaf + "/" + knob] = "";
  }
  f[leaf + "/cgroup.controllers"] = kAll;
  f[leaf + "/cpu.max"] = "max 100000\n";
  f[leaf + "/memory.current"] = "4096\n";
  f[leaf + "/memory.events"] = "low 0\nhigh 0\nmax 0\noom 1\noom_kill 1\n";
  f[leaf + "/cgroup.freeze"] = "0\n";
  f[leaf + "/cgroup.events"] = "populated 0\nfrozen 1\n";
  return f;
}

class RecordingInstaller : public v2::DeviceFilterInstaller {
 public:
  explicit RecordingInstaller(std::vector<std::pair<std::string, v2::BpfProgram>>* log)
      : log_(log) {}
  Status Install(const std::string& dir, const v2::BpfProgram& program) override {
    log_->emplace_back(dir, program);
    return Ok();
  }

 private:
  std::vector<std::pair<std::string, v2::BpfProgram>>* log_;
};

class V2DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_ / "berth";
    leaf_ = root_ + "/pod/c1";
    WriteTree(tmp_.path(), {{"cgroup.subtree_control", "memory"},  // outside: must stay untouched
                            {"berth/cgroup.controllers", kAll},
                            {"berth/cgroup.subtree_control", "cpu\n"},
                            {"berth/cgroup.procs", ""},
                            {"berth/pod/cgroup.controllers", kAll},
                            {"berth/pod/cgroup.subtree_control", ""},
                            {"berth/pod/cgroup.procs", ""}});
    WriteTree("/", LeafFiles(leaf_));
    Placement p;
    p.mode = Mode::kV2;
    p.paths[kUnified] = leaf_;
    p.relative[kUnified] = "/berth/pod/c1";
    p.roots[kUnified] = root_;
    auto d = v2::NewDriver(p, std::make_unique<RecordingInstaller>(&installed_));
    ASSERT_TRUE(d.ok()) << d.error().str();
    driver_ = std::move(d).value();
  }

  berth::testing::TempDir tmp_;
  std::string root_, leaf_;
  std::vector<std::pair<std::string, v2::BpfProgram>> installed_;
  DriverPtr driver_;
};

TEST_F(V2DriverTest, CreateEnablesControllersFromTheBerthRootDown) {
  WriteRecorder rec(tmp_.path());
  ASSERT_OK(driver_->Create());
  std::vector<std::pair<std::string, std::string>> want = {
      {"/berth/cgroup.subtree_control", "+cpuset +io +memory +hugetlb +pids +rdma +misc"},
      {"/berth/pod/cgroup.subtree_control", "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc"}};
  EXPECT_EQ(rec.writes(), want);  // nothing above the root, nothing in the leaf
  EXPECT_EQ(Read(tmp_ / "cgroup.subtree_control"), "memory");
}

TEST_F(V2DriverTest, CreateMakesMissingDirsAndRollsBackOnFailure) {
  berth::testing::TempDir other;
  WriteTree(other.path(),
            {{"root/cgroup.controllers", "memory\n"}, {"root/cgroup.subtree_control", ""}});
  Placement p;
  p.mode = Mode::kV2;
  p.paths[kUnified] = other / "root/a/b";
  p.roots[kUnified] = other / "root";
  auto d = v2::NewDriver(p);
  ASSERT_TRUE(d.ok());
  // root/a is made, but it has no cgroup.controllers on a plain file
  // system: Create fails and removes what it made.
  Status s = (*d)->Create();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("a/cgroup.controllers"), std::string::npos) << s.error().str();
  EXPECT_FALSE(PathExists(other / "root/a"));
  EXPECT_TRUE(PathExists(other / "root"));
}

TEST_F(V2DriverTest, ApplyEveryController) {
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = 256 << 20;
  r.memory->swap = 512 << 20;
  r.memory->reservation = 128 << 20;
  r.cpu = CpuLimits{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 200000;
  r.cpu->burst = 1000;
  r.cpu->idle = 0;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids_limit = 64;
  r.block_io = BlockIo{};
  r.block_io->weight = 500;
  r.block_io->weight_device = {{8, 0, 100, std::nullopt}};
  r.block_io->throttle_read_bps = {{8, 0, 1048576}};
  r.block_io->throttle_write_iops = {{8, 16, 30}};
  r.hugepage_limits = {{"2MB", 4194304}};
  r.rdma["mlx5_1"] = {{"hcaHandles", 3}};
  r.unified["memory.high"] = "200000000";
  r.devices = {{false, 'a', std::nullopt, std::nullopt, "rwm"}, {true, 'c', 1, 3, "rwm"}};

  WriteRecorder rec(leaf_);
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(leaf_ + "/memory.max"), "268435456");
  EXPECT_EQ(Read(leaf_ + "/memory.swap.max"), "268435456");  // 512M - 256M
  EXPECT_EQ(Read(leaf_ + "/memory.low"), "134217728");
  EXPECT_EQ(Read(leaf_ + "/cpu.weight"), "39");
  EXPECT_EQ(Read(leaf_ + "/cpu.max"), "50000 200000");
  EXPECT_EQ(Read(leaf_ + "/cpu.max.burst"), "1000");
  EXPECT_EQ(Read(leaf_ + "/cpu.idle"), "0");
  EXPECT_EQ(Read(leaf_ + "/cpuset.cpus"), "0-1");
  EXPECT_EQ(Read(leaf_ + "/cpuset.mems"), "0");
  EXPECT_EQ(Read(leaf_ + "/pids.max"), "64");
  EXPECT_EQ(rec.To("/io.weight"), (std::vector<std::string>{"4950", "8:0 910"}));
  EXPECT_EQ(rec.To("/io.max"), (std::vector<std::string>{"8:0 rbps=1048576", "8:16 wiops=30"}));
  EXPECT_EQ(Read(leaf_ + "/hugetlb.2MB.max"), "4194304");
  EXPECT_EQ(Read(leaf_ + "/hugetlb.2MB.rsvd.max"), "4194304");
  EXPECT_EQ(Read(leaf_ + "/rdma.max"), "mlx5_1 hca_handle=3");
  EXPECT_EQ(Read(leaf_ + "/memory.high"), "200000000");
  // The raw unified knobs come last, after every typed field.
  EXPECT_EQ(rec.writes().back().first, "/memory.high");
  for (const auto& [path, value] : rec.writes())
    EXPECT_EQ(path.find(".."), std::string::npos);

  ASSERT_EQ(installed_.size(), 1u);
  EXPECT_EQ(installed_[0].first, leaf_);
  auto run = [&](uint32_t major, uint32_t minor) {
    uint32_t ctx = BPF_DEVCG_DEV_CHAR | (BPF_DEVCG_ACC_WRITE << 16);
    return testing::RunDeviceProgram(installed_[0].second, ctx, major, minor).r0;
  };
  EXPECT_EQ(run(1, 3), 1u);
  EXPECT_EQ(run(1, 5), 0u);
}

TEST_F(V2DriverTest, UnsetFieldsStayAsTheyAre) {
  WriteRecorder rec(tmp_.path());
  Resources r;
  r.memory = MemoryLimits{};  // present but empty
  r.cpu = CpuLimits{};
  ASSERT_OK(driver_->Apply(r));
  EXPECT_TRUE(rec.writes().empty());
  EXPECT_TRUE(installed_.empty());
}

TEST_F(V2DriverTest, MemoryUnlimitedAlsoLiftsSwap) {
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = -1;
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(leaf_ + "/memory.max"), "max");
  EXPECT_EQ(Read(leaf_ + "/memory.swap.max"), "max");
}

TEST_F(V2DriverTest, SwapOnlyUpdateUsesTheLimitInForce) {
  WriteTree("/", {{leaf_ + "/memory.max", "100000\n"}});
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->swap = 300000;
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(leaf_ + "/memory.swap.max"), "200000");
  EXPECT_EQ(Read(leaf_ + "/memory.max"), "100000\n");  // untouched
  r.memory->swap = 100000;                             // == limit: no swap at all
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(leaf_ + "/memory.swap.max"), "0");
  r.memory->limit = 200000;
  r.memory->swap = 100000;
  Status s = driver_->Apply(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("linux.resources.memory.swap"), std::string::npos)
      << s.error().str();
}

TEST_F(V2DriverTest, CheckBeforeUpdate) {
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = 4096;  // memory.current is 4096
  r.memory->check_before_update = true;
  Status s = driver_->Apply(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("linux.resources.memory.limit: rejecting memory limit 4096 at "
                                 "or below the current usage 4096"),
            std::string::npos)
      << s.error().str();
  r.memory->limit = 8192;
  EXPECT_OK(driver_->Apply(r));
}

TEST_F(V2DriverTest, CpuUpdateKeepsTheOtherHalfOfCpuMax) {
  WriteTree("/", {{leaf_ + "/cpu.max", "50000 100000\n"}});
  Resources r;
  r.cpu = CpuLimits{};
  r.cpu->period = 200000;
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(leaf_ + "/cpu.max"), "50000 200000");
  r.cpu = CpuLimits{};
  r.cpu->quota = -1;
  ASSERT_OK(driver_->Apply(r));
  EXPECT_EQ(Read(leaf_ + "/cpu.max"), "max 200000");
}

TEST_F(V2DriverTest, MissingControllerIsAnErrorNamingTheField) {
  WriteTree("/", {{leaf_ + "/cgroup.controllers", "cpu pids\n"}});
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = 1 << 20;
  Status s = driver_->Apply(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().str(),
            "linux.resources.memory.limit: the memory controller is not "
            "available in `" +
                leaf_ +
                "` (cgroup.controllers: \"cpu pids\"; enable it in the parent's "
                "cgroup.subtree_control)");
  Resources h;
  h.hugepage_limits = {{"2MB", 1}};
  EXPECT_NE(driver_->Apply(h).error().str().find("linux.resources.hugepageLimits: the hugetlb"),
            std::string::npos);
}

TEST_F(V2DriverTest, RefusesWhatV2CannotDo) {
  Resources rt;
  rt.cpu = CpuLimits{};
  rt.cpu->realtime_runtime = 1000;
  EXPECT_NE(driver_->Apply(rt).error().str().find("linux.resources.cpu.realtimeRuntime"),
            std::string::npos);
  Resources net;
  net.network = NetworkLimits{};
  net.network->class_id = 1;
  EXPECT_NE(driver_->Apply(net).error().str().find("linux.resources.network"), std::string::npos);
  Resources size;
  size.hugepage_limits = {{"64KB", 1}};
  EXPECT_NE(driver_->Apply(size).error().str().find("huge page size \"64KB\" is not supported"),
            std::string::npos);
}

TEST_F(V2DriverTest, UnifiedKeysAreConfined) {
  for (const char* key : {"../../cgroup.procs", "memory/../x", "nodot", ".hidden", "memory."}) {
    Resources r;
    r.unified[key] = "1";
    Status s = driver_->Apply(r);
    ASSERT_FALSE(s.ok()) << key;
    EXPECT_NE(s.error().str().find(std::string("linux.resources.unified.") + key),
              std::string::npos)
        << s.error().str();
  }
  Resources unknown;
  unknown.unified["memory.nonexistent"] = "1";
  EXPECT_NE(driver_->Apply(unknown).error().str().find("no such cgroup file"), std::string::npos);
  Resources missing;
  missing.unified["perf_event.x"] = "1";
  EXPECT_NE(
      driver_->Apply(missing).error().str().find("the perf_event controller is not available"),
      std::string::npos);
}

TEST_F(V2DriverTest, FreezerKillAndMembership) {
  ASSERT_OK(driver_->Freeze());
  EXPECT_EQ(Read(leaf_ + "/cgroup.freeze"), "1");
  auto state = driver_->GetFreezerState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, FreezerState::kFrozen);
  WriteTree("/", {{leaf_ + "/cgroup.events", "populated 0\nfrozen 0\n"}});
  ASSERT_OK(driver_->Thaw());
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kThawed);

  ASSERT_OK(driver_->Kill(SIGKILL));
  EXPECT_EQ(Read(leaf_ + "/cgroup.kill"), "1");

  ASSERT_OK(driver_->AddProcess(12345));
  EXPECT_EQ(Read(leaf_ + "/cgroup.procs"), "12345");
  auto pids = driver_->Pids();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, std::vector<pid_t>{12345});
  EXPECT_EQ(*driver_->OomKillCount(), 1u);
}

}  // namespace
}  // namespace berth::cgroups
