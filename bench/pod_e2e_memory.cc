#include "bench/pod_e2e_memory.h"

#include <unistd.h>

#include <cstdlib>
#include <map>

#include "common/file.h"
#include "common/strings.h"

namespace berth::bench::pod_e2e {

namespace {

// The value of "<key>:   123 kB" in /proc text; 0 when absent.
int64_t KibField(const std::string& text, const std::string& key) {
  size_t at = text.starts_with(key + ":") ? 0 : text.find("\n" + key + ":");
  if (at == std::string::npos) return 0;
  at = text.find(':', at) + 1;
  return std::atoll(text.c_str() + at);
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  for (const std::string& name : ListDir("/proc").value_or(std::vector<std::string>{})) {
    Result<pid_t> pid = ParseInt<pid_t>(name, "pid");
    if (pid.ok()) out.push_back(*pid);
  }
  return out;
}

// PPid and Name from /proc/<pid>/status; false when the process is gone.
bool ParentAndName(pid_t pid, pid_t* parent, std::string* name) {
  Result<std::string> status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  if (!status.ok()) return false;
  *parent = static_cast<pid_t>(KibField(*status, "PPid"));
  size_t at = status->find("Name:");
  if (at == std::string::npos) return false;
  size_t end = status->find('\n', at);
  *name = std::string(Trim(std::string_view(*status).substr(at + 5, end - at - 5)));
  return true;
}

bool HasArgPair(const std::vector<std::string>& argv, const std::string& flag,
                const std::function<bool(const std::string&)>& value_ok) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && value_ok(argv[i + 1])) return true;
  }
  return false;
}

}  // namespace

ProcMemory& ProcMemory::operator+=(const ProcMemory& o) {
  rss_kib += o.rss_kib;
  hwm_kib += o.hwm_kib;
  pss_kib += o.pss_kib;
  pss_anon_kib += o.pss_anon_kib;
  uss_kib += o.uss_kib;
  return *this;
}

Result<ProcMemory> ReadProcMemory(pid_t pid) {
  std::string proc = "/proc/" + std::to_string(pid);
  std::string status = BERTH_TRY(ReadFile(proc + "/status"));
  std::string rollup = BERTH_TRY(ReadFile(proc + "/smaps_rollup"));
  ProcMemory m;
  m.rss_kib = KibField(status, "VmRSS");
  m.hwm_kib = KibField(status, "VmHWM");
  m.pss_kib = KibField(rollup, "Pss");
  m.pss_anon_kib = KibField(rollup, "Pss_Anon");
  m.uss_kib = KibField(rollup, "Private_Clean") + KibField(rollup, "Private_Dirty");
  return m;
}

Result<CpuSeconds> ReadCpuSeconds(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::string stat = BERTH_TRY(ReadFile(path));
  // Fields after "(comm) ": state is field 3, utime 14, stime 15, cutime 16,
  // cstime 17.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return Error(Errc::kInternal, path + ": no ')'");
  std::vector<std::string> f = SplitNonEmpty(stat.substr(close + 1), ' ');
  if (f.size() < 15) return Error(Errc::kInternal, path + ": too few fields");
  double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto ticks = [&](size_t field) { return std::strtod(f[field - 3].c_str(), nullptr) / tick; };
  return CpuSeconds{ticks(14) + ticks(15), ticks(16) + ticks(17)};
}

std::vector<std::string> Cmdline(pid_t pid) {
  Result<std::string> raw = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  return raw.ok() ? SplitNonEmpty(*raw, '\0') : std::vector<std::string>{};
}

ShimMatcher BerthShims(const std::string& run_root) {
  std::string prefix = run_root + "/s/";
  return [prefix](const std::vector<std::string>& argv) {
    return !argv.empty() && Basename(argv[0]) == "berth-shim" &&
           HasArgPair(argv, "--dir", [&](const std::string& v) { return v.starts_with(prefix); });
  };
}

ShimMatcher ContainerdShims(const std::string& socket) {
  return [socket](const std::vector<std::string>& argv) {
    return !argv.empty() && Basename(argv[0]) == "containerd-shim-runc-v2" &&
           HasArgPair(argv, "-address", [&](const std::string& v) { return v == socket; });
  };
}

PodOverhead MeasurePodOverhead(const ShimMatcher& is_shim) {
  std::map<pid_t, pid_t> parent_of;
  std::map<pid_t, std::string> name_of;
  PodOverhead out;
  for (pid_t pid : AllPids()) {
    pid_t parent = 0;
    std::string name;
    if (!ParentAndName(pid, &parent, &name)) continue;
    parent_of[pid] = parent;
    name_of[pid] = name;
    if (is_shim(Cmdline(pid))) out.shim_pids.push_back(pid);
  }
  for (pid_t shim : out.shim_pids) {
    Result<ProcMemory> m = ReadProcMemory(shim);
    if (!m.ok()) continue;
    out.shim += *m;
    ++out.shims;
  }
  for (const auto& [pid, parent] : parent_of) {
    bool of_shim = false;
    for (pid_t shim : out.shim_pids)
      of_shim |= parent == shim;
    if (!of_shim) continue;
    const std::string& name = name_of[pid];
    if (name != "pause" && name != "berth-pause") {
      ++out.apps;
      continue;
    }
    Result<ProcMemory> m = ReadProcMemory(pid);
    if (!m.ok()) continue;
    out.pause += *m;
    ++out.pauses;
  }
  return out;
}

}  // namespace berth::bench::pod_e2e
