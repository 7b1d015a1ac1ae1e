#pragma once
// CRI RunPodSandbox -> the config.json of the pod's pause container, as
// containerd 1.7's CRI plugin writes it (sandbox_run_linux.go):
//
//   process    pause_args as the user run_as_user[:run_as_group] (root by
//              default) with supplemental_groups, PATH only, cwd /,
//              containerd's default capabilities, noNewPrivileges,
//              oomScoreAdj -998 (raised to oom_score_adj_floor when set)
//   root       the pause rootfs, read-only
//   hostname   the pod's hostname (not with host network: no UTS namespace)
//   mounts     /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys (ro);
//              shm_path and resolv_conf bound read-only when given
//   linux      namespaces: pid (unless host PID), ipc (unless host IPC),
//              uts and network at netns_path (unless host network), mount;
//              sysctls from LinuxPodSandboxConfig (namespaced ones only,
//              else InvalidArgument naming the key); cpu.shares 2; the
//              deny-all device rule; cgroupsPath; seccomp from the sandbox
//              security context (see seccomp_profile.h); default masked
//              and read-only paths
//   annotations the pod's annotations, then io.kubernetes.cri.* (type
//              sandbox, sandbox id/name/namespace/uid, log directory, the
//              sandbox cpu/memory totals when LinuxPodSandboxConfig.resources
//              is set)
//
// Pure apart from reading the pause rootfs's /etc/passwd (for run_as_user)
// and a Localhost seccomp profile.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

struct SandboxSpecInput {
  const ::runtime::v1::PodSandboxConfig* config = nullptr;  // required
  std::string sandbox_id;                                   // required
  std::string rootfs;  // the pause rootfs (absolute; berth-pause at /pause)
  std::vector<std::string> pause_args = {"/pause"};
  std::string netns_path;    // the pinned netns ("" = a new one; ignored with host network)
  std::string cgroups_path;  // cgroup_parent + "/" + sandbox id, as containerd with cgroupfs
  std::string hostname;      // resolved: the config's, or the host's with host network
  // Bound read-only into the pause container when set (containerd does
  // both; the pause process itself uses neither).
  std::string shm_path, resolv_conf;
  std::string seccomp_profile_root;  // for relative Localhost profile paths
  int oom_score_adj = -998;
  std::optional<int> oom_score_adj_floor;  // restrict_oom_score_adj
};

Result<boost::json::object> BuildSandboxSpec(const SandboxSpecInput& in);

}  // namespace berth::cri
