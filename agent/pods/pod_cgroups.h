#pragma once
// kubelet's pod-level cgroups (cgroupsPerQOS, cgroupfs driver): the node's
// kubepods cgroup, the QoS cgroups kubepods/burstable and
// kubepods/besteffort, and one pod<uid> cgroup per pod with the pod's
// limits, made before its sandbox and removed after it (upstream
// pkg/kubelet/cm: qos_container_manager_linux.go, pod_container_manager_linux.go,
// helpers_linux.go ResourceConfigForPod).
//
// The cgroups are made through berth's cgroups/ library under the same root
// the runtime resolves the sandbox's cgroup_parent against, so the runtime
// places the containers in exactly these cgroups; nothing is written outside
// that root.

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "cgroups/cgroups.h"
#include "cgroups/resources.h"
#include "common/error.h"

namespace berth::agent {

// KubeletConfiguration knobs that shape a pod's cgroup.
struct PodCgroupSettings {
  bool enforce_cpu_limits = true;    // cpuCFSQuota
  uint64_t cpu_period_us = 100'000;  // cpuCFSQuotaPeriod
  int64_t pod_pids_limit = -1;       // podPidsLimit; <= 0: no limit
};

// A pod's cpu request (milli-cores) as upstream's PodRequests sums it:
// containers and sidecars add up, each init container counts with the
// sidecars before it, the larger of the two wins, plus spec.overhead. A
// container's request defaults to its limit (API defaulting).
int64_t PodCpuRequestMilli(const boost::json::object& pod);

// Upstream MilliCPUToShares: 1024 per core, at least 2, at most 262144.
uint64_t MilliCpuToShares(int64_t milli_cpu);

// Upstream ResourceConfigForPod (memory QoS off) plus podPidsLimit:
//  - BestEffort: cpu shares 2;
//  - Burstable: shares from the summed requests; quota/period only when
//    every container (init rule as upstream) has a cpu limit; memory limit
//    = the summed limits only when every container has a memory limit;
//  - Guaranteed: shares, quota/period and memory limit.
// Quota is -1 when cpu limits are not enforced.
cgroups::Resources PodResourceConfig(const boost::json::object& pod,
                                     const PodCgroupSettings& settings);

// The cgroups path (as the sandbox's cgroup_parent) of the node's kubepods
// cgroup and of a QoS class's cgroup under `cgroup_root` (KubeletConfiguration
// cgroupRoot: "/" or a path; relative ones stay relative).
std::string KubepodsCgroupsPath(const std::string& cgroup_root);
std::string QosCgroupsPath(const std::string& cgroup_root, const std::string& qos_class);

struct PodCgroupsOptions {
  cgroups::Layout layout;
  // The root the runtime resolves cgroup parents against (its
  // --cgroup-root; "" = the own cgroup), as cgroups::ResolveOptions.
  std::string berth_root;
  std::string cgroup_root = "/";  // KubeletConfiguration cgroupRoot
  // The text of /proc/self/cgroup; "" = read it (tests pass their own).
  std::string proc_self_cgroup;
  PodCgroupSettings settings;
};

// The QoS tree and the pods' cgroups. Thread-safe: pod workers call it
// concurrently.
class PodCgroups {
 public:
  explicit PodCgroups(PodCgroupsOptions options);

  // Before a pod's sandbox (every sync of a pod that runs, as upstream's
  // SyncPod): kubepods and the QoS cgroups exist, burstable's cpu shares
  // count this pod's request, and the first time in this process the pod's
  // cgroup is created with PodResourceConfig applied.
  Status EnsurePod(const boost::json::object& pod);
  // After the pod's sandboxes are removed: kills what is left in the pod's
  // cgroup (whichever QoS class it was under), removes it, and takes the
  // pod out of burstable's shares. A missing cgroup is not an error.
  Status RemovePod(const std::string& uid);

  // Where a cgroups path resolves (for tests and messages).
  Result<cgroups::Placement> Resolve(const std::string& cgroups_path) const;

 private:
  Status EnsureQosLocked();
  Status CreateAndApply(const std::string& cgroups_path, const cgroups::Resources& resources) const;

  PodCgroupsOptions options_;
  std::mutex mu_;
  bool qos_created_ = false;
  std::optional<int64_t> burstable_applied_milli_;
  std::map<std::string, int64_t> burstable_requests_;  // uid -> milli-cpu
  std::set<std::string> created_;                      // pods made in this process
};

}  // namespace berth::agent
