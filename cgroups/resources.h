#pragma once
// OCI LinuxResources (runtime-spec config-linux.md "Control groups"), parsed
// from config.json's linux.resources or from `update --resources`.
// Every field is optional: unset means "leave as is".

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace berth::cgroups {

struct DeviceRule {
  bool allow = false;
  char type = 'a';               // 'a' all, 'b' block, 'c' char
  std::optional<int64_t> major;  // unset = wildcard
  std::optional<int64_t> minor;
  std::string access;  // subset of "rwm"; "" = "rwm"

  bool operator==(const DeviceRule&) const = default;
};

// The rules runc appends after the spec's own (libcontainer/specconv
// AllowedDevices): mknod of any device, the standard /dev nodes, /dev/pts/*,
// /dev/ptmx and /dev/net/tun. The runtime appends these (and an allow rule
// per linux.devices entry) to the spec's list, so a container sees the same
// devices it would under runc.
std::vector<DeviceRule> RuncDefaultAllowedDevices();

struct MemoryLimits {
  std::optional<int64_t> limit;  // -1 = unlimited
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;  // memory+swap, as in v1
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
  std::optional<bool> use_hierarchy;
  std::optional<bool> check_before_update;
};

struct CpuLimits {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;  // -1 = unlimited
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus;
  std::string mems;
  std::optional<int64_t> idle;
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};
struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};
struct BlockIo {
  std::optional<uint16_t> weight, leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps, throttle_write_bps, throttle_read_iops,
      throttle_write_iops;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB"
  uint64_t limit = 0;
};

struct NetworkLimits {
  std::optional<uint32_t> class_id;
  std::vector<std::pair<std::string, uint32_t>> priorities;
};

struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<MemoryLimits> memory;
  std::optional<CpuLimits> cpu;
  std::optional<int64_t> pids_limit;  // 0 or -1 = unlimited (runc)
  std::optional<BlockIo> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<NetworkLimits> network;
  std::map<std::string, std::string> unified;  // raw v2 knob -> value
  // device -> {"hcaHandles": n, "hcaObjects": m} (the OCI member names)
  std::map<std::string, std::map<std::string, uint32_t>> rdma;
};

// Parses a LinuxResources object; errors name the field path
// ("linux.resources.memory.limit: expected integer, got string").
Result<Resources> ParseResources(const json::Field& field);

// The conversions runc uses between v1 and v2 values.
uint64_t CpuSharesToWeight(uint64_t shares);      // 0 -> 0 (unset)
uint64_t BlkioWeightToIoWeight(uint64_t weight);  // 0 -> 0 (unset)
// v1 memory+swap -> v2 memory.swap.max; errors when swap < limit.
// -1 means "max"; 0 means unset (nothing to write).
Result<int64_t> MemorySwapToV2(int64_t swap, int64_t limit);

}  // namespace berth::cgroups
