#pragma once
// Terminals: the container side allocates a pty from its own devpts and
// sends the master over the console socket (SCM_RIGHTS, as runc and
// containerd's console.Console expect); the runtime side receives it.

#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/oci/spec.h"

namespace berth::runtime::oci {

// In the container, after pivot_root: opens /dev/ptmx, sends the master to
// `socket_fd`, makes the slave stdin/stdout/stderr and the controlling
// terminal. With `mount_console`, the slave is bind-mounted on /dev/console.
Status SetupConsole(int socket_fd, const Process& process, bool mount_console);

Status SendFd(int socket_fd, int fd, const std::string& name);
Result<UniqueFd> ReceiveFd(int socket_fd);

}  // namespace berth::runtime::oci
