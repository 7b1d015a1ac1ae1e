#include <gtest/gtest.h>

#include "cgroups/resources.h"
#include "common/json.h"

namespace berth::cgroups {
namespace {

Result<Resources> Parse(const std::string& text) {
  Result<json::bj::value> doc = json::Parse(text, "test");
  if (!doc.ok()) return std::move(doc).error();
  static json::bj::value keep;  // Field points into the DOM
  keep = std::move(*doc);
  return ParseResources(json::Field(&keep, "linux.resources"));
}

std::string ErrorOf(const std::string& text) {
  Result<Resources> r = Parse(text);
  return r.ok() ? "<ok>" : r.error().str();
}

constexpr const char* kEverything = R"({
  "devices": [
    {"allow": false, "access": "rwm"},
    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"},
    {"allow": true, "type": "b", "major": 8, "access": "m"},
    {"allow": true, "type": "c", "major": -1, "minor": -1}
  ],
  "memory": {"limit": 536870912, "reservation": 268435456, "swap": 1073741824,
             "kernel": -1, "kernelTCP": 1024, "swappiness": 0,
             "disableOOMKiller": true, "useHierarchy": true, "checkBeforeUpdate": true},
  "cpu": {"shares": 1024, "quota": 50000, "burst": 10000, "period": 100000,
          "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "0-1",
          "mems": "0", "idle": 1},
  "pids": {"limit": 32},
  "blockIO": {"weight": 500, "leafWeight": 300,
              "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}],
              "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
              "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}],
              "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
              "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 200}]},
  "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}, {"pageSize": "1GB", "limit": 0}],
  "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
  "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "mlx4_0": {"hcaObjects": 7}},
  "unified": {"memory.high": "1073741824", "io.weight": "default 100"},
  "futureField": {"ignored": true}
})";

TEST(ParseResourcesTest, EveryField) {
  Result<Resources> r = Parse(kEverything);
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_EQ(r->devices.size(), 4u);
  EXPECT_EQ(r->devices[0], (DeviceRule{false, 'a', std::nullopt, std::nullopt, "rwm"}));
  EXPECT_EQ(r->devices[1], (DeviceRule{true, 'c', 1, 3, "rw"}));
  EXPECT_EQ(r->devices[2], (DeviceRule{true, 'b', 8, std::nullopt, "m"}));
  EXPECT_EQ(r->devices[3], (DeviceRule{true, 'c', std::nullopt, std::nullopt, ""}));

  ASSERT_TRUE(r->memory);
  EXPECT_EQ(r->memory->limit, 536870912);
  EXPECT_EQ(r->memory->reservation, 268435456);
  EXPECT_EQ(r->memory->swap, 1073741824);
  EXPECT_EQ(r->memory->kernel, -1);
  EXPECT_EQ(r->memory->kernel_tcp, 1024);
  EXPECT_EQ(r->memory->swappiness, 0u);
  EXPECT_EQ(r->memory->disable_oom_killer, true);
  EXPECT_EQ(r->memory->use_hierarchy, true);
  EXPECT_EQ(r->memory->check_before_update, true);

  ASSERT_TRUE(r->cpu);
  EXPECT_EQ(r->cpu->shares, 1024u);
  EXPECT_EQ(r->cpu->quota, 50000);
  EXPECT_EQ(r->cpu->burst, 10000u);
  EXPECT_EQ(r->cpu->period, 100000u);
  EXPECT_EQ(r->cpu->realtime_runtime, 950000);
  EXPECT_EQ(r->cpu->realtime_period, 1000000u);
  EXPECT_EQ(r->cpu->cpus, "0-1");
  EXPECT_EQ(r->cpu->mems, "0");
  EXPECT_EQ(r->cpu->idle, 1);

  EXPECT_EQ(r->pids_limit, 32);

  ASSERT_TRUE(r->block_io);
  EXPECT_EQ(r->block_io->weight, 500);
  EXPECT_EQ(r->block_io->leaf_weight, 300);
  ASSERT_EQ(r->block_io->weight_device.size(), 1u);
  EXPECT_EQ(r->block_io->weight_device[0].major, 8);
  EXPECT_EQ(r->block_io->weight_device[0].weight, 600);
  EXPECT_EQ(r->block_io->weight_device[0].leaf_weight, 200);
  ASSERT_EQ(r->block_io->throttle_read_bps.size(), 1u);
  EXPECT_EQ(r->block_io->throttle_read_bps[0].rate, 1048576u);
  EXPECT_EQ(r->block_io->throttle_write_bps[0].minor, 16);
  EXPECT_EQ(r->block_io->throttle_read_iops[0].rate, 100u);
  EXPECT_EQ(r->block_io->throttle_write_iops[0].rate, 200u);

  ASSERT_EQ(r->hugepage_limits.size(), 2u);
  EXPECT_EQ(r->hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(r->hugepage_limits[0].limit, 209715200u);

  ASSERT_TRUE(r->network);
  EXPECT_EQ(r->network->class_id, 1048577u);
  ASSERT_EQ(r->network->priorities.size(), 1u);
  EXPECT_EQ(r->network->priorities[0], (std::pair<std::string, uint32_t>("eth0", 500)));

  EXPECT_EQ(r->rdma.at("mlx5_1").at("hcaHandles"), 3u);
  EXPECT_EQ(r->rdma.at("mlx5_1").at("hcaObjects"), 10000u);
  EXPECT_EQ(r->rdma.at("mlx4_0").count("hcaHandles"), 0u);
  EXPECT_EQ(r->unified.at("io.weight"), "default 100");
}

TEST(ParseResourcesTest, AbsentAndEmpty) {
  json::Field absent(nullptr, "linux.resources");
  Result<Resources> r = ParseResources(absent);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->memory);
  Result<Resources> e = Parse("{}");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->devices.empty());
  EXPECT_FALSE(e->pids_limit);
  Result<Resources> nulls = Parse(R"({"memory": null, "cpu": {"quota": null}})");
  ASSERT_TRUE(nulls.ok()) << nulls.error().str();
  EXPECT_FALSE(nulls->memory);
  ASSERT_TRUE(nulls->cpu);
  EXPECT_FALSE(nulls->cpu->quota);
}

TEST(ParseResourcesTest, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(R"({"memory": {"limit": "1G"}})"),
            "linux.resources.memory.limit: expected integer, got string");
  EXPECT_EQ(ErrorOf(R"([])"), "linux.resources: expected object, got array");
  EXPECT_EQ(ErrorOf(R"({"memory": 5})"), "linux.resources.memory: expected object, got number");
  EXPECT_EQ(ErrorOf(R"({"cpu": {"shares": -2}})"),
            "linux.resources.cpu.shares: value -2 must not be negative");
  EXPECT_EQ(ErrorOf(R"({"cpu": {"cpus": 3}})"),
            "linux.resources.cpu.cpus: expected string, got number");
  EXPECT_EQ(ErrorOf(R"({"pids": {"limit": true}})"),
            "linux.resources.pids.limit: expected integer, got boolean");
  EXPECT_EQ(ErrorOf(R"({"devices": [{"access": "rwm"}]})"),
            "linux.resources.devices[0].allow: required field missing");
  EXPECT_EQ(ErrorOf(R"({"devices": [{"allow": true}, {"allow": true, "type": "x"}]})"),
            "linux.resources.devices[1].type: must be \"a\", \"b\" or \"c\", got \"x\"");
  EXPECT_EQ(ErrorOf(R"({"devices": [{"allow": true, "access": "rwx"}]})"),
            "linux.resources.devices[0].access: must be a combination of \"r\", \"w\" and "
            "\"m\", got \"rwx\"");
  EXPECT_EQ(ErrorOf(R"({"devices": [{"allow": true, "major": -5}]})"),
            "linux.resources.devices[0].major: value -5 must be -1 (any) or >= 0");
  EXPECT_EQ(ErrorOf(R"({"devices": {}})"), "linux.resources.devices: expected array, got object");
  EXPECT_EQ(ErrorOf(R"({"memory": {"swappiness": 101}})"),
            "linux.resources.memory.swappiness: value 101 out of range (0-100)");
  EXPECT_EQ(ErrorOf(R"({"blockIO": {"weight": 70000}})"),
            "linux.resources.blockIO.weight: value 70000 out of range");
  EXPECT_EQ(ErrorOf(R"({"blockIO": {"weightDevice": [{"minor": 0}]}})"),
            "linux.resources.blockIO.weightDevice[0].major: required field missing");
  EXPECT_EQ(ErrorOf(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0}]}})"),
            "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field missing");
  EXPECT_EQ(ErrorOf(R"({"hugepageLimits": [{"pageSize": "../2MB", "limit": 1}]})"),
            "linux.resources.hugepageLimits[0].pageSize: invalid page size \"../2MB\"");
  EXPECT_EQ(ErrorOf(R"({"network": {"priorities": [{"name": "eth0"}]}})"),
            "linux.resources.network.priorities[0].priority: required field missing");
  EXPECT_EQ(ErrorOf(R"({"rdma": {"mlx": {"hcaHandles": -1}}})"),
            "linux.resources.rdma.mlx.hcaHandles: value -1 must not be negative");
  EXPECT_EQ(ErrorOf(R"({"unified": {"memory.high": 5}})"),
            "linux.resources.unified.memory.high: expected string, got number");
}

TEST(ConversionsTest, CpuSharesToWeight) {
  EXPECT_EQ(CpuSharesToWeight(0), 0u);
  EXPECT_EQ(CpuSharesToWeight(2), 1u);
  EXPECT_EQ(CpuSharesToWeight(1024), 39u);  // runc: 1 + (1022*9999)/262142
  EXPECT_EQ(CpuSharesToWeight(512), 20u);
  EXPECT_EQ(CpuSharesToWeight(262144), 10000u);
  EXPECT_EQ(CpuSharesToWeight(1), 1u);             // clamped, no wrap-around
  EXPECT_EQ(CpuSharesToWeight(1u << 30), 10000u);  // clamped
}

TEST(ConversionsTest, BlkioWeightToIoWeight) {
  EXPECT_EQ(BlkioWeightToIoWeight(0), 0u);
  EXPECT_EQ(BlkioWeightToIoWeight(10), 1u);
  EXPECT_EQ(BlkioWeightToIoWeight(500), 4950u);  // 1 + 490*9999/990
  EXPECT_EQ(BlkioWeightToIoWeight(1000), 10000u);
  EXPECT_EQ(BlkioWeightToIoWeight(5), 1u);
}

TEST(ConversionsTest, MemorySwapToV2) {
  auto v = [](int64_t swap, int64_t limit) { return MemorySwapToV2(swap, limit); };
  EXPECT_EQ(*v(0, -1), -1);       // unlimited memory, swap unset: both unlimited
  EXPECT_EQ(*v(-1, 100), -1);     // swap max
  EXPECT_EQ(*v(0, 100), 0);       // unset
  EXPECT_EQ(*v(300, 100), 200);   // memory+swap - memory
  EXPECT_EQ(*v(100, 100), 0);     // no swap
  EXPECT_EQ(*v(300, -1), 300);    // unlimited memory: swap as is
  EXPECT_FALSE(v(50, 100).ok());  // swap < limit
  EXPECT_NE(v(50, 100).error().str().find("should be >= memory limit"), std::string::npos);
  EXPECT_FALSE(v(100, 0).ok());  // swap without limit
  EXPECT_FALSE(v(100, -5).ok());
}

TEST(DefaultDevicesTest, MatchesRunc) {
  std::vector<DeviceRule> d = RuncDefaultAllowedDevices();
  ASSERT_EQ(d.size(), 11u);
  EXPECT_EQ(d[0], (DeviceRule{true, 'c', std::nullopt, std::nullopt, "m"}));
  EXPECT_EQ(d[1], (DeviceRule{true, 'b', std::nullopt, std::nullopt, "m"}));
  EXPECT_EQ(d[2], (DeviceRule{true, 'c', 1, 3, "rwm"}));
  EXPECT_EQ(d[8], (DeviceRule{true, 'c', 136, std::nullopt, "rwm"}));
  EXPECT_EQ(d[10], (DeviceRule{true, 'c', 10, 200, "rwm"}));
}

}  // namespace
}  // namespace berth::cgroups
