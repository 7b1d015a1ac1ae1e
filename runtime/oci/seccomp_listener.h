#pragma once
// Handing a seccomp notify listener to the agent at linux.seccomp.listenerPath
// (config-linux.md "Seccomp", runtime.md "Container process state"): one
// message on a new SOCK_STREAM connection, the container process state JSON
// with the listener attached as SCM_RIGHTS, named "seccompFd" in "fds".

#include <sys/types.h>

#include <string>

#include "common/error.h"
#include "runtime/oci/spec.h"

namespace berth::runtime::oci {

std::string ContainerProcessStateJson(pid_t pid, const std::string& metadata,
                                      const std::string& state_json);

Status SendSeccompListener(const security::SeccompProfile& profile, int listener_fd, pid_t pid,
                           const std::string& state_json);

}  // namespace berth::runtime::oci
