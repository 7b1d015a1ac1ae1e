// The v1/hybrid driver against a fake tree shaped like this host: one
// directory per controller, name=systemd, and an unified hierarchy.

#include <gtest/gtest.h>
#include <signal.h>

#include "cgroups/tests/test_util.h"
#include "cgroups/v1/driver.h"

namespace berth::cgroups {
namespace {

using testing::Read;
using testing::WriteRecorder;
using testing::WriteTree;

const std::map<std::string, std::string> kHierarchies = {
    {"blkio", "blkio"},    {"cpu", "cpu"},         {"cpuacct", "cpuacct"},
    {"cpuset", "cpuset"},  {"devices", "devices"}, {"freezer", "freezer"},
    {"memory", "memory"},  {"pids", "pids"},       {"name=systemd", "systemd"},
    {"unified", "unified"}};

class V1DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<std::string, std::string> files;
    Placement p;
    p.mode = Mode::kHybrid;
    for (const auto& [key, dir] : kHierarchies) {
      std::string root = tmp_ / dir + "/berth";
      p.roots[key] = root;
      p.paths[key] = root + "/c1";
      p.relative[key] = "/berth/c1";
      files[dir + "/berth/c1/cgroup.procs"] = "";
    }
    files["cpuset/cpuset.cpus"] = "0-3\n";
    files["cpuset/cpuset.mems"] = "0\n";
    files["cpuset/berth/cpuset.cpus"] = "\n";
    files["cpuset/berth/cpuset.mems"] = "\n";
    files["cpuset/berth/c1/cpuset.cpus"] = "\n";
    files["cpuset/berth/c1/cpuset.mems"] = "\n";
    for (const char* f : {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                          "memory.soft_limit_in_bytes", "memory.swappiness", "memory.oom_control",
                          "memory.usage_in_bytes", "memory.max_usage_in_bytes"}) {
      files[std::string("memory/berth/c1/") + f] = "9223372036854771712\n";
    }
    files["memory/berth/c1/memory.oom_control"] = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
    for (const char* f : {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us",
                          "cpu.rt_period_us", "cpu.rt_runtime_us", "cpu.idle"}) {
      files[std::string("cpu/berth/c1/") + f] = "";
    }
    files["devices/berth/c1/devices.list"] = "a *:* rwm\n";
    files["devices/berth/c1/devices.allow"] = "";
    files["devices/berth/c1/devices.deny"] = "";
    files["freezer/berth/c1/freezer.state"] = "THAWED\n";
    files["pids/berth/c1/pids.max"] = "max\n";
    files["blkio/berth/c1/blkio.bfq.weight"] = "100\n";
    files["blkio/berth/c1/blkio.bfq.weight_device"] = "";
    files["blkio/berth/c1/blkio.throttle.read_bps_device"] = "";
    WriteTree(tmp_.path(), files);
    auto d = v1::NewDriver(p);
    ASSERT_TRUE(d.ok()) << d.error().str();
    driver_ = std::move(d).value();
  }

  std::string Dir(const std::string& c) { return tmp_ / c + "/berth/c1"; }

  berth::testing::TempDir tmp_;
  DriverPtr driver_;
};

TEST_F(V1DriverTest, CreateInheritsCpusetWithinTheRoot) {
  WriteRecorder rec(tmp_.path());
  ASSERT_OK(driver_->Create());
  std::vector<std::pair<std::string, std::string>> want = {{"/cpuset/berth/cpuset.mems", "0"},
                                                           {"/cpuset/berth/cpuset.cpus", "0-3"},
                                                           {"/cpuset/berth/c1/cpuset.mems", "0"},
                                                           {"/cpuset/berth/c1/cpuset.cpus", "0-3"}};
  EXPECT_EQ(rec.writes(), want);
  EXPECT_EQ(Read(tmp_ / "cpuset/cpuset.cpus"), "0-3\n");  // the parent is only read
}

TEST_F(V1DriverTest, AddProcessJoinsEveryHierarchy) {
  WriteRecorder rec(tmp_.path());
  ASSERT_OK(driver_->AddProcess(4242));
  EXPECT_EQ(rec.To("/cgroup.procs").size(), kHierarchies.size());
  for (const auto& [key, dir] : kHierarchies) {
    EXPECT_EQ(Read(tmp_ / dir + "/berth/c1/cgroup.procs"), "4242") << key;
  }
}

TEST_F(V1DriverTest, MemoryRaiseWritesSwapFirst) {
  WriteTree(tmp_.path(), {{"memory/berth/c1/memory.limit_in_bytes", "104857600\n"}});
  WriteRecorder rec(Dir("memory"));
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = 209715200;
  r.memory->swap = 419430400;
  r.memory->reservation = 52428800;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  r.memory->kernel = 1 << 20;  // ignored
  ASSERT_OK(driver_->Apply(r));
  std::vector<std::pair<std::string, std::string>> want = {
      {"/memory.memsw.limit_in_bytes", "419430400"},
      {"/memory.limit_in_bytes", "209715200"},
      {"/memory.soft_limit_in_bytes", "52428800"},
      {"/memory.oom_control", "1"},
      {"/memory.swappiness", "10"}};
  EXPECT_EQ(rec.writes(), want);
}

TEST_F(V1DriverTest, MemoryLowerWritesLimitFirst) {
  WriteTree(tmp_.path(), {{"memory/berth/c1/memory.limit_in_bytes", "209715200\n"}});
  WriteRecorder rec(Dir("memory"));
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = 52428800;
  r.memory->swap = 104857600;
  ASSERT_OK(driver_->Apply(r));
  std::vector<std::pair<std::string, std::string>> want = {
      {"/memory.limit_in_bytes", "52428800"}, {"/memory.memsw.limit_in_bytes", "104857600"}};
  EXPECT_EQ(rec.writes(), want);
}

TEST_F(V1DriverTest, MemoryUnlimitedLiftsSwapFirst) {
  WriteRecorder rec(Dir("memory"));
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = -1;
  ASSERT_OK(driver_->Apply(r));
  std::vector<std::pair<std::string, std::string>> want = {{"/memory.memsw.limit_in_bytes", "-1"},
                                                           {"/memory.limit_in_bytes", "-1"}};
  EXPECT_EQ(rec.writes(), want);
}

TEST_F(V1DriverTest, CpuAndPidsAndBlkio) {
  WriteRecorder rec(tmp_.path());
  Resources r;
  r.cpu = CpuLimits{};
  r.cpu->shares = 512;
  r.cpu->quota = 25000;
  r.cpu->period = 50000;
  r.cpu->burst = 500;
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 5000;
  r.cpu->idle = 1;
  r.cpu->cpus = "1";
  r.pids_limit = -1;
  r.block_io = BlockIo{};
  r.block_io->weight = 300;
  r.block_io->weight_device = {{8, 0, 200, std::nullopt}};
  r.block_io->throttle_read_bps = {{8, 0, 4096}};
  ASSERT_OK(driver_->Apply(r));
  std::vector<std::pair<std::string, std::string>> want = {
      {"/cpuset/berth/c1/cpuset.cpus", "1"},
      {"/cpu/berth/c1/cpu.shares", "512"},
      {"/cpu/berth/c1/cpu.cfs_period_us", "50000"},
      {"/cpu/berth/c1/cpu.cfs_quota_us", "25000"},
      {"/cpu/berth/c1/cpu.cfs_burst_us", "500"},
      {"/cpu/berth/c1/cpu.rt_period_us", "1000000"},
      {"/cpu/berth/c1/cpu.rt_runtime_us", "5000"},
      {"/cpu/berth/c1/cpu.idle", "1"},
      {"/pids/berth/c1/pids.max", "max"},
      {"/blkio/berth/c1/blkio.bfq.weight", "300"},
      {"/blkio/berth/c1/blkio.bfq.weight_device", "8:0 200"},
      {"/blkio/berth/c1/blkio.throttle.read_bps_device", "8:0 4096"}};
  EXPECT_EQ(rec.writes(), want);
}

// From a fresh cgroup ("a *:* rwm"): deny everything, then each allowed
// device, sorted, as runc 1.1 writes them.
TEST_F(V1DriverTest, DevicesWriteTheMinimalTransition) {
  WriteRecorder rec(Dir("devices"));
  Resources r;
  r.devices = {{false, 'a', std::nullopt, std::nullopt, "rwm"},
               {true, 'c', 5, 0, "rwm"},
               {true, 'c', 1, 3, "rw"}};
  ASSERT_OK(driver_->Apply(r));
  std::vector<std::pair<std::string, std::string>> want = {{"/devices.deny", "a *:* rwm"},
                                                           {"/devices.allow", "c 1:3 rw"},
                                                           {"/devices.allow", "c 5:0 rwm"}};
  EXPECT_EQ(rec.writes(), want);
}

TEST_F(V1DriverTest, UnmountedControllerIsAnErrorNamingTheField) {
  Resources r;
  r.hugepage_limits = {{"2MB", 1}};
  Status s = driver_->Apply(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().str(),
            "linux.resources.hugepageLimits: the hugetlb controller is not "
            "mounted (cgroup hybrid); berth refuses a limit it cannot enforce");
  Resources net;
  net.network = NetworkLimits{};
  net.network->priorities = {{"eth0", 1}};
  EXPECT_NE(driver_->Apply(net).error().str().find("linux.resources.network.priorities: the "
                                                   "net_prio controller is not mounted"),
            std::string::npos);
  Resources unified;
  unified.unified["memory.high"] = "1";
  EXPECT_NE(driver_->Apply(unified).error().str().find("linux.resources.unified: needs cgroup v2"),
            std::string::npos);
  // Unlimited pids need no controller; an empty blockIO neither.
  Resources fine;
  fine.block_io = BlockIo{};
  EXPECT_OK(driver_->Apply(fine));
}

TEST_F(V1DriverTest, BlkioWithoutWeightFile) {
  WriteRecorder rec(tmp_.path());
  ASSERT_EQ(::unlink((Dir("blkio") + "/blkio.bfq.weight").c_str()), 0);
  Resources r;
  r.block_io = BlockIo{};
  r.block_io->weight = 300;
  Status s = driver_->Apply(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("linux.resources.blockIO.weight: neither blkio.weight nor "
                                 "blkio.bfq.weight exists"),
            std::string::npos);
}

TEST_F(V1DriverTest, FreezerAndKill) {
  WriteRecorder rec(Dir("freezer"));
  ASSERT_OK(driver_->Freeze());
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kFrozen);
  ASSERT_OK(driver_->Thaw());
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kThawed);
  rec.Clear();
  ASSERT_OK(driver_->Kill(SIGTERM));  // no processes: freeze, nothing to signal, thaw
  std::vector<std::string> want = {"FROZEN", "THAWED"};
  EXPECT_EQ(rec.To("/freezer.state"), want);
  // A paused container stays paused for SIGTERM, and is thawed for SIGKILL.
  ASSERT_OK(driver_->Freeze());
  rec.Clear();
  ASSERT_OK(driver_->Kill(SIGTERM));
  EXPECT_TRUE(rec.To("/freezer.state").empty());
  ASSERT_OK(driver_->Kill(SIGKILL));
  EXPECT_EQ(rec.To("/freezer.state"), std::vector<std::string>{"THAWED"});
  EXPECT_EQ(*driver_->OomKillCount(), 2u);
}

}  // namespace
}  // namespace berth::cgroups
