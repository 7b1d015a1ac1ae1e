#pragma once
// Supervising a container process in the foreground (`run` and `exec`
// without --detach): signals the runtime receives are forwarded to it, a
// terminal is proxied between our stdio and the pty master, and the result
// is the process's exit code (128+signal when killed), as runc returns it.

#include <sys/types.h>

#include "common/error.h"

namespace berth::runtime::oci {

// `tty_master` is -1 without a terminal. Other children (orphans reparented
// to us as a subreaper) are reaped along the way.
Result<int> SuperviseForeground(pid_t pid, int tty_master);

}  // namespace berth::runtime::oci
