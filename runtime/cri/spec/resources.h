#pragma once
// linux.resources from CRI LinuxContainerResources (containerd's
// WithResources; 0 / "" means "not set" for every field):
//   cpu_period -> cpu.period, cpu_quota -> cpu.quota, cpu_shares -> cpu.shares,
//   cpuset_cpus/mems -> cpu.cpus/mems, memory_limit_in_bytes -> memory.limit,
//   memory_swap_limit_in_bytes -> memory.swap (with swap accounting only;
//   without a swap limit, swap = limit so the container does not swap),
//   hugepage_limits -> hugepageLimits, unified -> unified.
// oom_score_adj goes to process.oomScoreAdj (OomScoreAdj below).
// And the sandbox's sysctls: only those in a namespace the pod owns.

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>

#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

// Adds memory/cpu/hugepageLimits/unified to `resources` (a linux.resources
// object that already holds the device rules).
void AddContainerResources(const ::runtime::v1::LinuxContainerResources& r, bool swap_accounting,
                           boost::json::object& resources);

// restrict_oom_score_adj: never below `floor` (the value berth itself runs
// with, which an unprivileged runtime cannot go below).
int ClampOomScoreAdj(int adj, std::optional<int> floor);

// InvalidArgument naming the key for a sysctl outside the pod's own
// namespaces: IPC (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) needs
// the pod's IPC namespace, net.* its network namespace.
Status CheckSysctls(const google::protobuf::Map<std::string, std::string>& sysctls,
                    bool host_network, bool host_ipc);

}  // namespace berth::cri
