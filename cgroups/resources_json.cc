// ParseResources: OCI LinuxResources JSON -> Resources, with errors naming
// the field path; and the value conversions runc applies on cgroup v2.

#include <algorithm>

#include "cgroups/resources.h"

namespace berth::cgroups {

namespace {

using json::Field;

Result<bool> RequiredBool(const Field& f) {
  if (!f.present()) return f.Invalid("required field missing");
  return f.Bool();
}

// OCI encodes a wildcard major/minor as absent; runc also accepts -1.
Result<std::optional<int64_t>> DeviceNumber(const Field& f) {
  std::optional<int64_t> v = BERTH_TRY(f.OptInt<int64_t>());
  if (v && *v < 0) {
    if (*v != -1) return f.Invalid("value " + std::to_string(*v) + " must be -1 (any) or >= 0");
    return std::optional<int64_t>();
  }
  return v;
}

Result<DeviceRule> ParseDevice(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  DeviceRule rule;
  rule.allow = BERTH_TRY(RequiredBool(f["allow"]));
  std::string type = BERTH_TRY(f["type"].OptString()).value_or("a");
  if (type != "a" && type != "b" && type != "c") {
    return f["type"].Invalid("must be \"a\", \"b\" or \"c\", got \"" + type + "\"");
  }
  rule.type = type[0];
  rule.major = BERTH_TRY(DeviceNumber(f["major"]));
  rule.minor = BERTH_TRY(DeviceNumber(f["minor"]));
  rule.access = BERTH_TRY(f["access"].OptString()).value_or("");
  if (rule.access.find_first_not_of("rwm") != std::string::npos) {
    return f["access"].Invalid("must be a combination of \"r\", \"w\" and \"m\", got \"" +
                               rule.access + "\"");
  }
  return rule;
}

Result<std::vector<DeviceRule>> ParseDevices(const Field& f) {
  return f.MapItems(ParseDevice);
}

Result<std::optional<MemoryLimits>> ParseMemory(const Field& f) {
  if (!f.present()) return std::optional<MemoryLimits>();
  BERTH_TRY(f.ExpectObject());
  MemoryLimits m;
  m.limit = BERTH_TRY(f["limit"].OptInt<int64_t>());
  m.reservation = BERTH_TRY(f["reservation"].OptInt<int64_t>());
  m.swap = BERTH_TRY(f["swap"].OptInt<int64_t>());
  m.kernel = BERTH_TRY(f["kernel"].OptInt<int64_t>());
  m.kernel_tcp = BERTH_TRY(f["kernelTCP"].OptInt<int64_t>());
  m.swappiness = BERTH_TRY(f["swappiness"].OptInt<uint64_t>());
  if (m.swappiness && *m.swappiness > 100) {
    return f["swappiness"].Invalid("value " + std::to_string(*m.swappiness) +
                                   " out of range (0-100)");
  }
  m.disable_oom_killer = BERTH_TRY(f["disableOOMKiller"].OptBool());
  m.use_hierarchy = BERTH_TRY(f["useHierarchy"].OptBool());
  m.check_before_update = BERTH_TRY(f["checkBeforeUpdate"].OptBool());
  return std::optional<MemoryLimits>(m);
}

Result<std::optional<CpuLimits>> ParseCpu(const Field& f) {
  if (!f.present()) return std::optional<CpuLimits>();
  BERTH_TRY(f.ExpectObject());
  CpuLimits c;
  c.shares = BERTH_TRY(f["shares"].OptInt<uint64_t>());
  c.quota = BERTH_TRY(f["quota"].OptInt<int64_t>());
  c.burst = BERTH_TRY(f["burst"].OptInt<uint64_t>());
  c.period = BERTH_TRY(f["period"].OptInt<uint64_t>());
  c.realtime_runtime = BERTH_TRY(f["realtimeRuntime"].OptInt<int64_t>());
  c.realtime_period = BERTH_TRY(f["realtimePeriod"].OptInt<uint64_t>());
  c.cpus = BERTH_TRY(f["cpus"].OptString()).value_or("");
  c.mems = BERTH_TRY(f["mems"].OptString()).value_or("");
  c.idle = BERTH_TRY(f["idle"].OptInt<int64_t>());
  return std::optional<CpuLimits>(c);
}

Result<std::optional<int64_t>> ParsePids(const Field& f) {
  if (!f.present()) return std::optional<int64_t>();
  BERTH_TRY(f.ExpectObject());
  return f["limit"].OptInt<int64_t>();
}

Result<std::vector<WeightDevice>> ParseWeightDevices(const Field& f) {
  std::vector<WeightDevice> out;
  for (const Field& item : BERTH_TRY(f.Items())) {
    BERTH_TRY(item.ExpectObject());
    WeightDevice d;
    d.major = BERTH_TRY(item["major"].Int<int64_t>());
    d.minor = BERTH_TRY(item["minor"].Int<int64_t>());
    d.weight = BERTH_TRY(item["weight"].OptInt<uint16_t>());
    d.leaf_weight = BERTH_TRY(item["leafWeight"].OptInt<uint16_t>());
    out.push_back(d);
  }
  return out;
}

Result<std::vector<ThrottleDevice>> ParseThrottleDevices(const Field& f) {
  std::vector<ThrottleDevice> out;
  for (const Field& item : BERTH_TRY(f.Items())) {
    BERTH_TRY(item.ExpectObject());
    ThrottleDevice d;
    d.major = BERTH_TRY(item["major"].Int<int64_t>());
    d.minor = BERTH_TRY(item["minor"].Int<int64_t>());
    d.rate = BERTH_TRY(item["rate"].Int<uint64_t>());
    out.push_back(d);
  }
  return out;
}

Result<std::optional<BlockIo>> ParseBlockIo(const Field& f) {
  if (!f.present()) return std::optional<BlockIo>();
  BERTH_TRY(f.ExpectObject());
  BlockIo b;
  b.weight = BERTH_TRY(f["weight"].OptInt<uint16_t>());
  b.leaf_weight = BERTH_TRY(f["leafWeight"].OptInt<uint16_t>());
  b.weight_device = BERTH_TRY(ParseWeightDevices(f["weightDevice"]));
  b.throttle_read_bps = BERTH_TRY(ParseThrottleDevices(f["throttleReadBpsDevice"]));
  b.throttle_write_bps = BERTH_TRY(ParseThrottleDevices(f["throttleWriteBpsDevice"]));
  b.throttle_read_iops = BERTH_TRY(ParseThrottleDevices(f["throttleReadIOPSDevice"]));
  b.throttle_write_iops = BERTH_TRY(ParseThrottleDevices(f["throttleWriteIOPSDevice"]));
  return std::optional<BlockIo>(b);
}

Result<std::vector<HugepageLimit>> ParseHugepages(const Field& f) {
  std::vector<HugepageLimit> out;
  for (const Field& item : BERTH_TRY(f.Items())) {
    BERTH_TRY(item.ExpectObject());
    HugepageLimit h;
    h.page_size = BERTH_TRY(item["pageSize"].String());
    if (h.page_size.empty() || h.page_size.find('/') != std::string::npos) {
      return item["pageSize"].Invalid("invalid page size \"" + h.page_size + "\"");
    }
    h.limit = BERTH_TRY(item["limit"].Int<uint64_t>());
    out.push_back(h);
  }
  return out;
}

Result<std::optional<NetworkLimits>> ParseNetwork(const Field& f) {
  if (!f.present()) return std::optional<NetworkLimits>();
  BERTH_TRY(f.ExpectObject());
  NetworkLimits n;
  n.class_id = BERTH_TRY(f["classID"].OptInt<uint32_t>());
  for (const Field& item : BERTH_TRY(f["priorities"].Items())) {
    BERTH_TRY(item.ExpectObject());
    std::string name = BERTH_TRY(item["name"].String());
    uint32_t priority = BERTH_TRY(item["priority"].Int<uint32_t>());
    n.priorities.emplace_back(std::move(name), priority);
  }
  return std::optional<NetworkLimits>(n);
}

Result<std::map<std::string, std::map<std::string, uint32_t>>> ParseRdma(const Field& f) {
  std::map<std::string, std::map<std::string, uint32_t>> out;
  for (const auto& [device, limits] : BERTH_TRY(f.Members())) {
    BERTH_TRY(limits.ExpectObject());
    std::map<std::string, uint32_t>& entry = out[device];
    for (const char* key : {"hcaHandles", "hcaObjects"}) {
      std::optional<uint32_t> v = BERTH_TRY(limits[key].OptInt<uint32_t>());
      if (v) entry[key] = *v;
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseUnified(const Field& f) {
  std::map<std::string, std::string> out;
  for (auto& [key, value] : BERTH_TRY(f.StringMap()))
    out[key] = value;
  return out;
}

}  // namespace

Result<Resources> ParseResources(const json::Field& field) {
  Resources r;
  if (!field.present()) return r;
  BERTH_TRY(field.ExpectObject());
  r.devices = BERTH_TRY(ParseDevices(field["devices"]));
  r.memory = BERTH_TRY(ParseMemory(field["memory"]));
  r.cpu = BERTH_TRY(ParseCpu(field["cpu"]));
  r.pids_limit = BERTH_TRY(ParsePids(field["pids"]));
  r.block_io = BERTH_TRY(ParseBlockIo(field["blockIO"]));
  r.hugepage_limits = BERTH_TRY(ParseHugepages(field["hugepageLimits"]));
  r.network = BERTH_TRY(ParseNetwork(field["network"]));
  r.rdma = BERTH_TRY(ParseRdma(field["rdma"]));
  r.unified = BERTH_TRY(ParseUnified(field["unified"]));
  return r;
}

std::vector<DeviceRule> RuncDefaultAllowedDevices() {
  auto chr = [](std::optional<int64_t> major, std::optional<int64_t> minor, const char* access) {
    return DeviceRule{true, 'c', major, minor, access};
  };
  return {
      chr(std::nullopt, std::nullopt, "m"),  // mknod of any char device
      DeviceRule{true, 'b', std::nullopt, std::nullopt, "m"},
      chr(1, 3, "rwm"),               // /dev/null
      chr(1, 8, "rwm"),               // /dev/random
      chr(1, 7, "rwm"),               // /dev/full
      chr(5, 0, "rwm"),               // /dev/tty
      chr(1, 5, "rwm"),               // /dev/zero
      chr(1, 9, "rwm"),               // /dev/urandom
      chr(136, std::nullopt, "rwm"),  // /dev/pts/*
      chr(5, 2, "rwm"),               // /dev/ptmx
      chr(10, 200, "rwm"),            // /dev/net/tun
  };
}

// runc: 1 + ((shares - 2) * 9999) / 262142, mapping [2, 262144] onto
// [1, 10000]. Out-of-range shares are clamped first (the kernel clamps them
// on v1 too), where runc's unsigned arithmetic would wrap.
uint64_t CpuSharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

// runc: 1 + (weight - 10) * 9999 / 990, mapping [10, 1000] onto [1, 10000].
uint64_t BlkioWeightToIoWeight(uint64_t weight) {
  if (weight == 0) return 0;
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (weight - 10) * 9999 / 990;
}

// runc's ConvertMemorySwapToCgroupV2Value (the 1.2 form, which also accepts
// a swap limit with unlimited memory).
Result<int64_t> MemorySwapToV2(int64_t swap, int64_t limit) {
  if (limit == -1 && swap == 0) return -1;  // "memory unlimited" implies swap too
  if (swap == -1 || swap == 0) return swap;
  if (limit == -1) return swap;
  if (limit == 0) {
    return Error(Errc::kInvalidArgument, "unable to set a swap limit without a memory limit");
  }
  if (limit < 0) {
    return Error(Errc::kInvalidArgument, "invalid memory limit " + std::to_string(limit));
  }
  if (swap < limit) {
    return Error(Errc::kInvalidArgument, "memory+swap limit (" + std::to_string(swap) +
                                             ") should be >= memory limit (" +
                                             std::to_string(limit) + ")");
  }
  return swap - limit;
}

}  // namespace berth::cgroups
