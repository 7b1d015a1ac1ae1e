#include "agent/server/node_stats.h"

#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/file.h"
#include "common/strings.h"

namespace berth::agent::kubelet {
namespace {

std::vector<std::string> Lines(std::string_view text) {
  return Split(text, '\n');
}

uint64_t U64(std::string_view s) {
  return ParseInt<uint64_t>(s, "number").value_or(0);
}

}  // namespace

Result<uint64_t> ParseProcStatBusyNanos(std::string_view proc_stat, int64_t ticks_per_second) {
  for (const std::string& line : Lines(proc_stat)) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.empty() || f[0] != "cpu") continue;
    // user nice system idle iowait irq softirq steal guest guest_nice
    if (f.size() < 5 || ticks_per_second <= 0) break;
    uint64_t busy = 0;
    for (size_t i = 1; i < f.size() && i <= 8; ++i) {
      if (i == 4 || i == 5) continue;  // idle, iowait
      busy += U64(f[i]);
    }
    return busy * (1'000'000'000 / static_cast<uint64_t>(ticks_per_second));
  }
  return Error(Errc::kInvalidArgument, "/proc/stat: no cpu line");
}

Result<int64_t> ParseProcStatBootTime(std::string_view proc_stat) {
  for (const std::string& line : Lines(proc_stat)) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.size() == 2 && f[0] == "btime") return ParseInt<int64_t>(f[1], "btime");
  }
  return Error(Errc::kInvalidArgument, "/proc/stat: no btime line");
}

Result<MemInfo> ParseMeminfo(std::string_view text) {
  MemInfo m;
  bool have_total = false;
  for (const std::string& line : Lines(text)) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.size() < 2) continue;
    uint64_t bytes = U64(f[1]) * (f.size() > 2 && f[2] == "kB" ? 1024 : 1);
    if (f[0] == "MemTotal:") {
      m.total = bytes;
      have_total = true;
    } else if (f[0] == "MemFree:") {
      m.free = bytes;
    } else if (f[0] == "MemAvailable:") {
      m.available = bytes;
    } else if (f[0] == "Inactive(file):") {
      m.inactive_file = bytes;
    } else if (f[0] == "AnonPages:") {
      m.anon = bytes;
    }
  }
  if (!have_total) return Error(Errc::kInvalidArgument, "/proc/meminfo: no MemTotal");
  return m;
}

VmStat ParseVmstat(std::string_view text) {
  VmStat v;
  for (const std::string& line : Lines(text)) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.size() != 2) continue;
    if (f[0] == "pgfault") v.page_faults = U64(f[1]);
    if (f[0] == "pgmajfault") v.major_page_faults = U64(f[1]);
  }
  return v;
}

std::vector<InterfaceStats> ParseNetDev(std::string_view text) {
  std::vector<InterfaceStats> out;
  for (const std::string& line : Lines(text)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::string name(Trim(std::string_view(line).substr(0, colon)));
    if (name == "lo") continue;
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs ...
    std::vector<std::string> f = SplitNonEmpty(line.substr(colon + 1), ' ');
    if (f.size() < 11) continue;
    out.push_back({name, U64(f[0]), U64(f[2]), U64(f[8]), U64(f[10])});
  }
  return out;
}

std::string DefaultRouteInterface(std::string_view proc_net_route) {
  for (const std::string& line : Lines(proc_net_route)) {
    std::vector<std::string> f = SplitNonEmpty(line, '\t');
    // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
    if (f.size() >= 8 && f[1] == "00000000" && f[7] == "00000000") return std::string(Trim(f[0]));
  }
  return "";
}

Result<FsStats> StatFs(const std::string& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return Error::Sys("statvfs", path);
  FsStats f;
  f.capacity_bytes = static_cast<uint64_t>(s.f_blocks) * s.f_frsize;
  f.available_bytes = static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
  f.used_bytes = static_cast<uint64_t>(s.f_blocks - s.f_bfree) * s.f_frsize;
  f.inodes = s.f_files;
  f.inodes_free = s.f_ffree;
  f.inodes_used = s.f_files - s.f_ffree;
  return f;
}

Result<ProcessStats> SelfStats() {
  ProcessStats p;
  std::string stat = BERTH_TRY(ReadFile("/proc/self/stat"));
  // After the ")" that ends the command name: state is field 3.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return Error(Errc::kInternal, "/proc/self/stat: no comm");
  std::vector<std::string> f = SplitNonEmpty(stat.substr(close + 2), ' ');
  // f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
  if (f.size() < 22) return Error(Errc::kInternal, "/proc/self/stat: too few fields");
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  p.cpu_seconds = static_cast<double>(U64(f[11]) + U64(f[12])) / ticks;
  p.virtual_bytes = U64(f[20]);
  p.resident_bytes = U64(f[21]) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  std::string proc_stat = BERTH_TRY(ReadFile("/proc/stat"));
  int64_t boot = BERTH_TRY(ParseProcStatBootTime(proc_stat));
  p.start_time_seconds = static_cast<double>(boot) + static_cast<double>(U64(f[19])) / ticks;
  if (Result<std::vector<std::string>> fds = ListDir("/proc/self/fd"); fds.ok()) {
    p.open_fds = fds->size();
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) p.max_fds = lim.rlim_cur;
  return p;
}

}  // namespace berth::agent::kubelet
