#pragma once
// Container resource usage, in the shape `runc events --stats` prints
// (runc's types.Stats, as runc 1.1 marshals it), so tools parsing runc's
// output work.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::cgroups {

struct CpuStats {
  uint64_t total = 0, kernel = 0, user = 0;  // ns
  std::vector<uint64_t> percpu;
  std::vector<uint64_t> percpu_kernel, percpu_user;  // v1 cpuacct.usage_all
  uint64_t periods = 0, throttled_periods = 0, throttled_time = 0;
};

struct MemoryEntry {
  uint64_t usage = 0, max = 0, failcnt = 0, limit = 0;
};

struct MemoryStats {
  uint64_t cache = 0;
  // On v2, swap is reported as memory+swap (usage and limit), as on v1.
  MemoryEntry usage, swap, kernel, kernel_tcp;
  std::map<std::string, uint64_t> raw;  // memory.stat
  bool use_hierarchy = false;
};

struct PidsStats {
  uint64_t current = 0, limit = 0;  // limit 0 = max
};

struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;
  uint64_t value = 0;
};

struct HugetlbStats {
  uint64_t usage = 0, max = 0, failcnt = 0;
};

struct CpusetStats {
  std::vector<uint16_t> cpus, mems;
  uint64_t cpu_exclusive = 0, mem_hardwall = 0, mem_exclusive = 0, memory_migrate = 0,
           memory_spread_page = 0, memory_spread_slab = 0, memory_pressure = 0,
           sched_load_balance = 0;
  int64_t sched_relax_domain_level = 0;
};

struct Stats {
  CpuStats cpu;
  CpusetStats cpuset;
  MemoryStats memory;
  PidsStats pids;
  std::vector<BlkioEntry> io_service_bytes, io_serviced;
  std::map<std::string, HugetlbStats> hugetlb;  // page size -> stats
  // OOM kills in this cgroup (v2 memory.events oom_kill; v1
  // memory.oom_control oom_kill). Used for the "oom" event and OOMKilled.
  uint64_t oom_kill = 0;
  uint64_t oom = 0;
};

// `{"cpu":{...},"cpuset":{...},"memory":{...},"pids":{...},"blkio":{...},
// "hugetlb":{...},"intel_rdt":{},"network_interfaces":null}` as runc's
// types.Stats marshals (Go field order, omitempty where runc has it).
std::string StatsToRuncJson(const Stats& stats);

// Pure parser of the list format cpuset files use: "0-3,7" -> {0,1,2,3,7}.
Result<std::vector<uint16_t>> ParseCpuList(std::string_view text);

}  // namespace berth::cgroups
