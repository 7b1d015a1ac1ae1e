#include "agent/node/machine_info.h"

#include <sched.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <algorithm>
#include <optional>

#include "agent/config/quantity.h"
#include "common/file.h"
#include "common/strings.h"

namespace berth::agent {
namespace {

std::string ReadTrimmed(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  return text.ok() ? std::string(Trim(*text)) : std::string();
}

// A /proc/meminfo line's value in bytes ("MemTotal:  16318024 kB").
std::optional<int64_t> MeminfoBytes(const std::string& meminfo, std::string_view key) {
  for (const std::string& line : Split(meminfo, '\n')) {
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    std::vector<std::string> f = SplitNonEmpty(line.substr(key.size() + 1), ' ');
    if (f.empty()) return std::nullopt;
    Result<int64_t> v = ParseInt<int64_t>(f[0], key);
    if (!v.ok()) return std::nullopt;
    return f.size() > 1 && f[1] == "kB" ? *v * 1024 : *v;
  }
  return std::nullopt;
}

std::string OsImage(const std::string& etc) {
  Result<std::string> text = ReadFile(PathJoin(etc, "os-release"));
  if (!text.ok()) return "Linux";
  for (const std::string& line : Split(*text, '\n')) {
    if (!line.starts_with("PRETTY_NAME=")) continue;
    std::string v(Trim(line.substr(12)));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    return v.empty() ? "Linux" : v;
  }
  return "Linux";
}

std::map<std::string, int64_t> HugePages(const std::string& sys) {
  std::map<std::string, int64_t> out;
  std::string dir = PathJoin(sys, "kernel/mm/hugepages");
  Result<std::vector<std::string>> entries = ListDir(dir);
  if (!entries.ok()) return out;
  for (const std::string& name : *entries) {
    // "hugepages-2048kB"
    if (!name.starts_with("hugepages-") || !name.ends_with("kB")) continue;
    Result<int64_t> kb = ParseInt<int64_t>(name.substr(10, name.size() - 12), "hugepage size");
    Result<int64_t> pages =
        ParseInt<int64_t>(ReadTrimmed(PathJoin(dir, name + "/nr_hugepages")), "nr_hugepages");
    if (!kb.ok() || !pages.ok()) continue;
    out["hugepages-" + FormatBinarySI(*kb * 1024)] = *pages * *kb * 1024;
  }
  return out;
}

}  // namespace

const char* GoArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

Result<MachineInfo> ReadMachineInfo(const MachinePaths& paths) {
  MachineInfo m;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return Error::Sys("sched_getaffinity");
  m.milli_cpu = static_cast<int64_t>(CPU_COUNT(&set)) * 1000;
  MemoryStats memory = BERTH_TRY(ReadMemoryStats(paths));
  m.memory_bytes = memory.total_bytes;
  m.hugepages = HugePages(paths.sys);
  m.machine_id = ReadTrimmed(PathJoin(paths.etc, "machine-id"));
  m.system_uuid = ReadTrimmed(PathJoin(paths.sys, "class/dmi/id/product_uuid"));
  if (m.system_uuid.empty()) m.system_uuid = m.machine_id;
  m.boot_id = ReadTrimmed(PathJoin(paths.proc, "sys/kernel/random/boot_id"));
  utsname u{};
  if (uname(&u) == 0) m.kernel_version = u.release;
  m.os_image = OsImage(paths.etc);
  m.architecture = GoArch();
  return m;
}

Result<MemoryStats> ReadMemoryStats(const MachinePaths& paths) {
  std::string path = PathJoin(paths.proc, "meminfo");
  std::string meminfo = BERTH_TRY(ReadFile(path));
  std::optional<int64_t> total = MeminfoBytes(meminfo, "MemTotal");
  std::optional<int64_t> available = MeminfoBytes(meminfo, "MemAvailable");
  if (!total || !available) {
    return Error(Errc::kDataLoss, path + ": no MemTotal or MemAvailable line");
  }
  return MemoryStats{*total, *available};
}

Result<FsStats> StatFs(const std::string& path) {
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0) return Error::Sys("statvfs", path);
  auto frsize = static_cast<int64_t>(st.f_frsize);
  return FsStats{static_cast<int64_t>(st.f_blocks) * frsize,
                 static_cast<int64_t>(st.f_bavail) * frsize, static_cast<int64_t>(st.f_files),
                 static_cast<int64_t>(st.f_ffree)};
}

Result<PidStats> ReadPidStats(const MachinePaths& paths) {
  PidStats out;
  out.max = -1;
  for (const char* knob : {"sys/kernel/pid_max", "sys/kernel/threads-max"}) {
    std::string path = PathJoin(paths.proc, knob);
    int64_t v = BERTH_TRY(ParseInt<int64_t>(BERTH_TRY(ReadFile(path)), path));
    out.max = out.max < 0 ? v : std::min(out.max, v);
  }
  // "0.00 0.01 0.05 1/523 12345": running/total tasks.
  std::string path = PathJoin(paths.proc, "loadavg");
  std::vector<std::string> f = SplitNonEmpty(BERTH_TRY(ReadFile(path)), ' ');
  std::vector<std::string> tasks = f.size() > 3 ? Split(f[3], '/') : std::vector<std::string>{};
  if (tasks.size() != 2) return Error(Errc::kDataLoss, path + ": no running/total field");
  out.running = BERTH_TRY(ParseInt<int64_t>(tasks[1], path));
  return out;
}

}  // namespace berth::agent
