// The v1/hybrid driver for real on this host (root, hybrid cgroups): every
// cgroup lives below a test root created beneath this process's own cgroup
// in each hierarchy, and is removed afterwards even when a test fails.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <vector>

#include "cgroups/tests/priv_util.h"

namespace berth::cgroups {
namespace {

using testing::Child;
using testing::ProcCgroup;
using testing::Read;
using testing::SharedCounter;
using testing::TestRoot;
using testing::WaitFor;

class V1PrivTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root");
    Result<Layout> layout = Detect();
    ASSERT_TRUE(layout.ok()) << layout.error().str();
    BERTH_REQUIRE(layout->mode != Mode::kV2, "a cgroup v1 or hybrid host");
    ResolveOptions o;
    o.berth_root = testing::UniqueName("berth-test");
    o.cgroups_path = "pod/c1";
    Result<Placement> p = Resolve(*layout, o);
    ASSERT_TRUE(p.ok()) << p.error().str();
    placement_ = *p;
    root_ = std::make_unique<TestRoot>(placement_);
    Result<DriverPtr> d = Open(placement_);
    ASSERT_TRUE(d.ok()) << d.error().str();
    driver_ = std::move(d).value();
  }
  void TearDown() override {
    driver_.reset();
    if (root_) root_->ExpectNothingLeft();
  }

  std::string Dir(const std::string& key) { return placement_.paths.at(key); }

  Placement placement_;
  std::unique_ptr<TestRoot> root_;
  DriverPtr driver_;
};

Resources Limits(int64_t memory) {
  Resources r;
  r.memory = MemoryLimits{};
  r.memory->limit = memory;
  r.memory->swap = memory;  // no swap: the OOM killer, not swapping
  r.pids_limit = 32;
  r.cpu = CpuLimits{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.devices = {{false, 'a', std::nullopt, std::nullopt, "rwm"}};
  for (const DeviceRule& d : RuncDefaultAllowedDevices())
    r.devices.push_back(d);
  return r;
}

TEST_F(V1PrivTest, Lifecycle) {
  ASSERT_OK(driver_->Create());
  for (const auto& [key, dir] : placement_.paths)
    EXPECT_TRUE(PathExists(dir)) << key;
  ASSERT_OK(driver_->Apply(Limits(32 << 20)));
  EXPECT_EQ(Read(Dir("memory") + "/memory.limit_in_bytes"), "33554432\n");
  EXPECT_EQ(Read(Dir("memory") + "/memory.memsw.limit_in_bytes"), "33554432\n");
  EXPECT_EQ(Read(Dir("pids") + "/pids.max"), "32\n");
  EXPECT_EQ(Read(Dir("cpu") + "/cpu.shares"), "512\n");
  EXPECT_EQ(Read(Dir("cpu") + "/cpu.cfs_quota_us"), "50000\n");
  // The devices.list a runc container on this host shows.
  EXPECT_EQ(Read(Dir("devices") + "/devices.list"),
            "b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\n"
            "c 5:0 rwm\nc 5:2 rwm\nc 10:200 rwm\nc 136:* rwm\n");
  EXPECT_FALSE(Read(Dir("cpuset") + "/cpuset.cpus").empty());

  Child child;
  ASSERT_OK(driver_->AddProcess(child.pid()));
  child.Go();
  // /proc/<pid>/cgroup names the placement in every hierarchy, the unified
  // one ("0::") included.
  std::map<std::string, std::string> in = ProcCgroup(child.pid());
  for (const auto& [key, rel] : placement_.relative)
    EXPECT_EQ(in[key], rel) << key;
  EXPECT_EQ(in.size(), placement_.relative.size());

  auto pids = driver_->Pids();
  ASSERT_TRUE(pids.ok()) << pids.error().str();
  EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});

  auto stats = driver_->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.error().str();
  EXPECT_EQ(stats->pids.current, 1u);
  EXPECT_EQ(stats->pids.limit, 32u);
  EXPECT_EQ(stats->memory.usage.limit, 33554432u);
  // (no usage check: v1 charges only what the child allocates after joining)
  EXPECT_EQ(stats->cpu.percpu.size(), static_cast<size_t>(::sysconf(_SC_NPROCESSORS_CONF)));
  boost::json::value json = boost::json::parse(StatsToRuncJson(*stats));
  EXPECT_EQ(json.at("pids").at("current").to_number<uint64_t>(), 1u);

  ASSERT_OK(driver_->Kill(SIGKILL));
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ASSERT_TRUE(WaitFor([&] { return driver_->Pids().ok() && driver_->Pids()->empty(); }));
  ASSERT_OK(driver_->Destroy());
  for (const auto& [key, dir] : placement_.paths)
    EXPECT_FALSE(PathExists(dir)) << key;
  ASSERT_OK(driver_->Destroy());  // idempotent
}

// The fast way in: the child moves itself through the v1 `tasks` files the
// runtime opened, the runtime adds it to the unified hierarchy.
TEST_F(V1PrivTest, SpawnJoinPlacesTheChildEverywhere) {
  ASSERT_OK(driver_->Create());
  Result<SpawnJoin> join = driver_->OpenSpawnJoin();
  ASSERT_TRUE(join.ok()) << join.error().str();
  EXPECT_EQ(join->clone_into.fd.valid(), placement_.paths.count(kUnified) == 1);
  Child child([&join] {
    if (!join->JoinSelf().ok()) return 1;
    ::pause();
    return 0;
  });
  ASSERT_OK(join->AddWithoutCloneInto(child.pid()));
  child.Go();
  ASSERT_TRUE(WaitFor([&] {
    std::map<std::string, std::string> in = ProcCgroup(child.pid());
    return in.size() == placement_.relative.size() &&
           std::all_of(in.begin(), in.end(),
                       [&](const auto& kv) { return placement_.relative[kv.first] == kv.second; });
  })) << Read("/proc/" + std::to_string(child.pid()) + "/cgroup");
  ASSERT_OK(driver_->Kill(SIGKILL));
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST_F(V1PrivTest, FreezeStopsTheProcesses) {
  ASSERT_OK(driver_->Create());
  SharedCounter counter;
  Child child([&] {
    for (;;)
      counter.Bump();
    return 0;
  });
  ASSERT_OK(driver_->AddProcess(child.pid()));
  child.Go();
  ASSERT_TRUE(WaitFor([&] { return counter.Get() > 1000; }));
  ASSERT_OK(driver_->Freeze());
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kFrozen);
  EXPECT_EQ(Read(Dir("freezer") + "/freezer.state"), "FROZEN\n");
  uint64_t frozen_at = counter.Get();
  SleepMs(200);
  EXPECT_EQ(counter.Get(), frozen_at);
  ASSERT_OK(driver_->Thaw());
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kThawed);
  EXPECT_TRUE(WaitFor([&] { return counter.Get() > frozen_at; }));
  ASSERT_OK(driver_->Kill(SIGKILL));
  child.Wait();
  ASSERT_TRUE(WaitFor([&] { return driver_->Pids()->empty(); }));
  ASSERT_OK(driver_->Destroy());
}

// kill --all: every process, forks included, gets the signal.
TEST_F(V1PrivTest, KillReachesEveryProcess) {
  ASSERT_OK(driver_->Create());
  Child child([] {
    for (int i = 0; i < 3; ++i) {
      if (::fork() == 0) {
        ::pause();
        _exit(0);
      }
    }
    ::pause();
    return 0;
  });
  ASSERT_OK(driver_->AddProcess(child.pid()));
  child.Go();
  ASSERT_TRUE(WaitFor([&] { return driver_->Pids().ok() && driver_->Pids()->size() == 4; }));
  ASSERT_OK(driver_->Kill(SIGTERM));
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  // The grandchildren were reparented away from us; they must die too.
  EXPECT_TRUE(WaitFor([&] { return driver_->Pids().ok() && driver_->Pids()->empty(); }));
  EXPECT_EQ(*driver_->GetFreezerState(), FreezerState::kThawed);
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V1PrivTest, MemoryLimitKillsAndIsCounted) {
  ASSERT_OK(driver_->Create());
  ASSERT_OK(driver_->Apply(Limits(16 << 20)));
  Child child([] {
    for (int i = 0; i < 64; ++i) {
      volatile char* b = static_cast<volatile char*>(::malloc(1 << 20));
      if (b == nullptr) return 2;
      for (int j = 0; j < (1 << 20); j += 4096)
        b[j] = 1;  // volatile: really touched
    }
    return 0;  // not reached under the limit
  });
  ASSERT_OK(driver_->AddProcess(child.pid()));
  child.Go();
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  auto kills = driver_->OomKillCount();
  ASSERT_TRUE(kills.ok()) << kills.error().str();
  EXPECT_GE(*kills, 1u);
  EXPECT_GE(driver_->GetStats()->oom_kill, 1u);
  ASSERT_OK(driver_->Destroy());
}

// update: raising and lowering memory+swap in either order the kernel
// accepts, and an unlimited update.
TEST_F(V1PrivTest, UpdateMemoryBothWays) {
  ASSERT_OK(driver_->Create());
  ASSERT_OK(driver_->Apply(Limits(32 << 20)));
  Resources up;
  up.memory = MemoryLimits{};
  up.memory->limit = 64 << 20;
  up.memory->swap = 128 << 20;
  ASSERT_OK(driver_->Apply(up));
  EXPECT_EQ(Read(Dir("memory") + "/memory.limit_in_bytes"), "67108864\n");
  EXPECT_EQ(Read(Dir("memory") + "/memory.memsw.limit_in_bytes"), "134217728\n");
  Resources down;
  down.memory = MemoryLimits{};
  down.memory->limit = 8 << 20;
  down.memory->swap = 16 << 20;
  ASSERT_OK(driver_->Apply(down));
  EXPECT_EQ(Read(Dir("memory") + "/memory.memsw.limit_in_bytes"), "16777216\n");
  Resources unlimited;
  unlimited.memory = MemoryLimits{};
  unlimited.memory->limit = -1;
  ASSERT_OK(driver_->Apply(unlimited));
  EXPECT_EQ(Read(Dir("memory") + "/memory.limit_in_bytes"), "9223372036854771712\n");
  ASSERT_OK(driver_->Destroy());
}

TEST_F(V1PrivTest, KernelErrorsNameKnobAndValue) {
  ASSERT_OK(driver_->Create());
  Resources r;
  r.cpu = CpuLimits{};
  r.cpu->quota = 500;  // below the kernel's 1 ms minimum
  Status s = driver_->Apply(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().str(), "linux.resources.cpu.quota: write `" + Dir("cpu") +
                                 "/cpu.cfs_quota_us` (value \"500\"): Invalid argument");
  Resources devices;
  devices.devices = {{true, 'c', std::nullopt, std::nullopt, "rwm"}, {false, 'c', 1, 3, "w"}};
  Status hole = driver_->Apply(devices);
  ASSERT_FALSE(hole.ok());
  EXPECT_NE(hole.error().str().find("cannot punch a hole"), std::string::npos);
  ASSERT_OK(driver_->Destroy());
}

// Reopening from the saved placement (a later CLI invocation) drives the
// same cgroups.
TEST_F(V1PrivTest, ReopenFromJson) {
  ASSERT_OK(driver_->Create());
  Child child;
  ASSERT_OK(driver_->AddProcess(child.pid()));
  child.Go();
  Result<Placement> saved = PlacementFromJson(PlacementToJson(driver_->placement()));
  ASSERT_TRUE(saved.ok()) << saved.error().str();
  Result<DriverPtr> again = Open(*saved);
  ASSERT_TRUE(again.ok()) << again.error().str();
  auto pids = (*again)->Pids();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});
  ASSERT_OK((*again)->Kill(SIGKILL));
  child.Wait();
  ASSERT_TRUE(WaitFor([&] { return driver_->Pids()->empty(); }));
  ASSERT_OK((*again)->Destroy());
}

}  // namespace
}  // namespace berth::cgroups
