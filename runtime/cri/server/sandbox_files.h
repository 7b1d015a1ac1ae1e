#pragma once
// The files a pod's containers share, kept in the sandbox's directory:
// hostname, hosts and resolv.conf (bind-mounted into each container), and
// the pod's /dev/shm, a tmpfs of its own unless the pod uses the host's IPC.

#include <string>

#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

struct SandboxFiles {
  std::string hostname;  // the value
  std::string hostname_file, hosts_file, resolv_conf;
  std::string shm;  // a mount point, or /dev/shm with host IPC
};

// Writes the files into `dir` and mounts the shm tmpfs. DNSConfig with no
// servers, searches or options means the host's resolv.conf (as containerd).
Result<SandboxFiles> PrepareSandboxFiles(const std::string& dir,
                                         const ::runtime::v1::PodSandboxConfig& config);
// Unmounts the shm tmpfs (if mounted) and leaves the files for removal.
Status ReleaseSandboxShm(const std::string& shm);

bool HostNetwork(const ::runtime::v1::PodSandboxConfig& config);
bool HostIpc(const ::runtime::v1::PodSandboxConfig& config);
bool HostPid(const ::runtime::v1::PodSandboxConfig& config);

}  // namespace berth::cri
