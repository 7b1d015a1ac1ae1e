#include "cgroups/stats.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "cgroups/cgroups.h"
#include "cgroups/tests/test_util.h"
#include "cgroups/v2/controllers.h"

namespace berth::cgroups {
namespace {

using testing::WriteTree;

std::string FixtureDir(const std::string& name) {
  return berth::testing::SourceDir() + "/cgroups/tests/fixtures/" + name;
}

// The golden test: the cgroup files of a paused runc 1.1.5 container on this
// host (tests/fixtures/v1-runc) and what `runc events --stats` printed for it
// at that moment. berth's v1 stats, rendered, must be byte-identical.
TEST(StatsTest, V1MatchesRuncEventsByteForByte) {
  std::string base = FixtureDir("v1-runc");
  Placement p;
  p.mode = Mode::kV1;
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "blkio"}) {
    p.paths[c] = base + "/" + c;
    p.roots[c] = base;
  }
  Result<DriverPtr> d = Open(p);
  ASSERT_TRUE(d.ok()) << d.error().str();
  Result<Stats> s = (*d)->GetStats();
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_EQ(s->pids.current, 1u);
  EXPECT_EQ(s->memory.usage.limit, 67108864u);

  boost::json::value events = boost::json::parse(testing::Fixture("v1-runc/runc-events.json"));
  std::string want = boost::json::serialize(events.at("data"));
  EXPECT_EQ(StatsToRuncJson(*s), want);
}

TEST(StatsTest, V2FromFiles) {
  berth::testing::TempDir tmp;
  WriteTree(tmp.path(),
            {{"memory.stat", "anon 4096\nfile 8192\nkernel 100\n"},
             {"memory.current", "12288\n"},
             {"memory.max", "max\n"},
             {"memory.peak", "20000\n"},
             {"memory.swap.current", "100\n"},
             {"memory.swap.max", "max\n"},
             {"memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n"},
             {"cpu.stat",
              "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\n"
              "nr_throttled 2\nthrottled_usec 30\nnr_bursts 0\nburst_usec 0\n"},
             {"pids.current", "3\n"},
             {"pids.max", "100\n"},
             {"io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"},
             {"cpuset.cpus.effective", "0-1\n"},
             {"cpuset.mems.effective", "0\n"},
             {"hugetlb.2MB.current", "2097152\n"},
             {"hugetlb.2MB.events", "max 4\n"},
             {"hugetlb.2MB.rsvd.current", "0\n"}});
  Result<Stats> s = v2::ReadStats(tmp.path());
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_EQ(s->memory.cache, 8192u);
  EXPECT_EQ(s->memory.usage.usage, 12288u);
  EXPECT_EQ(s->memory.usage.limit, kMax);
  EXPECT_EQ(s->memory.usage.max, 20000u);
  EXPECT_EQ(s->memory.usage.failcnt, 5u);
  EXPECT_EQ(s->memory.swap.usage, 12388u);  // memory+swap, as v1 reports
  EXPECT_EQ(s->memory.swap.limit, kMax);
  EXPECT_TRUE(s->memory.use_hierarchy);
  EXPECT_EQ(s->oom, 2u);
  EXPECT_EQ(s->oom_kill, 1u);
  EXPECT_EQ(s->cpu.total, 1500000u);
  EXPECT_EQ(s->cpu.user, 1000000u);
  EXPECT_EQ(s->cpu.kernel, 500000u);
  EXPECT_EQ(s->cpu.periods, 7u);
  EXPECT_EQ(s->cpu.throttled_periods, 2u);
  EXPECT_EQ(s->cpu.throttled_time, 30000u);
  EXPECT_EQ(s->pids.current, 3u);
  EXPECT_EQ(s->pids.limit, 100u);
  ASSERT_EQ(s->io_service_bytes.size(), 2u);
  EXPECT_EQ(s->io_service_bytes[0].op, "Read");
  EXPECT_EQ(s->io_service_bytes[0].value, 4096u);
  EXPECT_EQ(s->io_service_bytes[1].op, "Write");
  ASSERT_EQ(s->io_serviced.size(), 2u);
  EXPECT_EQ(s->io_serviced[1].value, 2u);
  EXPECT_EQ(s->cpuset.cpus, (std::vector<uint16_t>{0, 1}));
  ASSERT_EQ(s->hugetlb.size(), 1u);
  EXPECT_EQ(s->hugetlb.at("2MB").usage, 2097152u);
  EXPECT_EQ(s->hugetlb.at("2MB").failcnt, 4u);
  Result<uint64_t> kills = v2::ReadOomKills(tmp.path());
  ASSERT_TRUE(kills.ok());
  EXPECT_EQ(*kills, 1u);
}

// A cgroup with no controllers enabled (a hybrid host's unified hierarchy):
// zeros, no error.
TEST(StatsTest, V2WithoutControllers) {
  berth::testing::TempDir tmp;
  WriteTree(tmp.path(), {{"cgroup.procs", ""}, {"cpu.stat", "usage_usec 9\n"}});
  Result<Stats> s = v2::ReadStats(tmp.path());
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_EQ(s->cpu.total, 9000u);
  EXPECT_EQ(s->memory.usage.usage, 0u);
  EXPECT_EQ(*v2::ReadOomKills(tmp.path()), 0u);
}

TEST(StatsTest, EmptyStatsJson) {
  EXPECT_EQ(StatsToRuncJson(Stats{}),
            R"({"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},"cpuset":{"cpu_exclusive":0,)"
            R"("mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,)"
            R"("memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,)"
            R"("sched_relax_domain_level":0},"memory":{"usage":{"limit":0,"failcnt":0},)"
            R"("swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},)"
            R"("kernelTCP":{"limit":0,"failcnt":0}},"pids":{},"blkio":{},"hugetlb":{},)"
            R"("intel_rdt":{},"network_interfaces":null})");
}

TEST(StatsTest, BlkioAndHugetlbJson) {
  Stats s;
  s.io_service_bytes = {{8, 0, "Read", 4096}};
  s.hugetlb["2MB"] = {1, 0, 0};
  std::string json = StatsToRuncJson(s);
  EXPECT_NE(
      json.find(R"("blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":4096}]})"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("hugetlb":{"2MB":{"usage":1,"failcnt":0}})"), std::string::npos) << json;
}

TEST(StatsTest, ParseCpuList) {
  EXPECT_EQ(*ParseCpuList("0-3,7\n"), (std::vector<uint16_t>{0, 1, 2, 3, 7}));
  EXPECT_EQ(*ParseCpuList("\n"), std::vector<uint16_t>{});
  EXPECT_EQ(*ParseCpuList("5"), std::vector<uint16_t>{5});
  EXPECT_FALSE(ParseCpuList("3-1").ok());
  EXPECT_FALSE(ParseCpuList("a").ok());
}

TEST(StatsTest, IoStatParser) {
  Stats s;
  ASSERT_TRUE(
      v2::ParseIoStat("259:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n\n", &s).ok());
  ASSERT_EQ(s.io_service_bytes.size(), 2u);
  EXPECT_EQ(s.io_service_bytes[0].major, 259u);
  EXPECT_EQ(s.io_serviced[0].value, 3u);
  EXPECT_FALSE(v2::ParseIoStat("8:x rbytes=1\n", &s).ok());
}

}  // namespace
}  // namespace berth::cgroups
