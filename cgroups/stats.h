#pragma once
// Container resource usage, in the shape `runc events --stats` prints
// (libcontainer/cgroups stats types), so tools parsing runc's output work.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::cgroups {

struct CpuStats {
  uint64_t total = 0, kernel = 0, user = 0;  // ns
  std::vector<uint64_t> percpu;
  uint64_t periods = 0, throttled_periods = 0, throttled_time = 0;
};

struct MemoryEntry {
  uint64_t usage = 0, max = 0, failcnt = 0, limit = 0;
};

struct MemoryStats {
  uint64_t cache = 0;
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

struct Stats {
  CpuStats cpu;
  MemoryStats memory;
  PidsStats pids;
  std::vector<BlkioEntry> io_service_bytes, io_serviced;
  std::map<std::string, HugetlbStats> hugetlb;  // page size -> stats
  // OOM kills in this cgroup (v2 memory.events oom_kill; v1
  // memory.oom_control oom_kill). Used for the "oom" event and OOMKilled.
  uint64_t oom_kill = 0;
  uint64_t oom = 0;
};

// `{"cpu":{...},"memory":{...},"pids":{...},"blkio":{...},"hugetlb":{...}}`
// as runc's types.Stats marshals.
std::string StatsToRuncJson(const Stats& stats);

}  // namespace berth::cgroups
