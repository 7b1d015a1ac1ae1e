#pragma once
// bench/pod-e2e: memory and CPU of the node's processes, read from /proc.
// A pod's cost beyond its app is its runtime shim and its pause process:
// berth-shim (one per pod, serving <run-root>/s/<pod>) or
// containerd-shim-runc-v2 (one per pod, -address <containerd socket>); the
// pause is the shim's child running `pause` / `berth-pause`, every other
// child of a shim is the pod's app.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::bench::pod_e2e {

struct ProcMemory {
  int64_t rss_kib = 0;       // VmRSS
  int64_t hwm_kib = 0;       // VmHWM: the peak RSS
  int64_t pss_kib = 0;       // smaps_rollup Pss
  int64_t pss_anon_kib = 0;  // Pss_Anon
  int64_t uss_kib = 0;       // Private_Clean + Private_Dirty

  ProcMemory& operator+=(const ProcMemory& o);
};

Result<ProcMemory> ReadProcMemory(pid_t pid);

struct CpuSeconds {
  double self = 0;      // utime + stime
  double children = 0;  // cutime + cstime: children it has waited for
};
Result<CpuSeconds> ReadCpuSeconds(pid_t pid);

// The argv of `pid`; empty when it is gone.
std::vector<std::string> Cmdline(pid_t pid);

// Which processes are this runtime's shims, by argv.
using ShimMatcher = std::function<bool(const std::vector<std::string>& argv)>;
// berth-shim --dir <run_root>/s/...
ShimMatcher BerthShims(const std::string& run_root);
// containerd-shim-runc-v2 ... -address <socket>
ShimMatcher ContainerdShims(const std::string& socket);

struct PodOverhead {
  int shims = 0;
  int pauses = 0;
  int apps = 0;      // the shims' other children
  ProcMemory shim;   // summed over the shims
  ProcMemory pause;  // summed over the pause processes
  std::vector<pid_t> shim_pids;
};

// Scans /proc once for the shims `is_shim` accepts and their children.
PodOverhead MeasurePodOverhead(const ShimMatcher& is_shim);

}  // namespace berth::bench::pod_e2e
