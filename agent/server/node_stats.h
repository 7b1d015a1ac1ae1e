#pragma once
// The node's and this process's resource usage from /proc and statvfs(2),
// for /stats/summary and /metrics. Parsers take the file's text so tests
// can feed them samples.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::agent::kubelet {

// CPU time the node spent busy (all but idle and iowait; guest time is
// already in user), in nanoseconds, from /proc/stat's "cpu" line.
Result<uint64_t> ParseProcStatBusyNanos(std::string_view proc_stat, int64_t ticks_per_second);
// "btime" of /proc/stat: boot time, unix seconds.
Result<int64_t> ParseProcStatBootTime(std::string_view proc_stat);

struct MemInfo {
  uint64_t total = 0;
  uint64_t free = 0;
  uint64_t available = 0;
  uint64_t inactive_file = 0;
  uint64_t anon = 0;  // AnonPages
};
Result<MemInfo> ParseMeminfo(std::string_view text);

struct VmStat {
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;
};
VmStat ParseVmstat(std::string_view text);

struct InterfaceStats {
  std::string name;
  uint64_t rx_bytes = 0;
  uint64_t rx_errors = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_errors = 0;
};
// /proc/net/dev, without the loopback.
std::vector<InterfaceStats> ParseNetDev(std::string_view text);
// The interface of the IPv4 default route in /proc/net/route ("" if none).
std::string DefaultRouteInterface(std::string_view proc_net_route);

struct FsStats {
  uint64_t capacity_bytes = 0;
  uint64_t available_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t inodes = 0;
  uint64_t inodes_free = 0;
  uint64_t inodes_used = 0;
};
Result<FsStats> StatFs(const std::string& path);

// This process, for process_* metrics and the "kubelet" system container.
struct ProcessStats {
  double cpu_seconds = 0;
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  double start_time_seconds = 0;  // unix
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;
};
Result<ProcessStats> SelfStats();

}  // namespace berth::agent::kubelet
