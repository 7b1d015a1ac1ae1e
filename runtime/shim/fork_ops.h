#pragma once
// The shim's container operations, each run in a forked child so that the
// runtime's code and allocations never touch the long-lived shim's memory:
// the child creates the container (or starts an exec process) through
// runtime/oci, reports `ok <pid>` / `err <code> <message>` on a pipe and
// exits. The shim is a child subreaper, so the container's process is
// reparented to it and the shim is the one that reaps it.

#include <sys/types.h>

#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/oci/container.h"

namespace berth::shim {

// The container side of a process's stdio: -1 = /dev/null.
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
  int console_socket = -1;  // tty: the runtime sends the pty master here
};

struct ForkedOp {
  pid_t pid = -1;
  UniqueFd result;  // readable once the child has reported
};

Result<ForkedOp> ForkCreate(const runtime::oci::RuntimeOptions& rt, const std::string& id,
                            const std::string& bundle, const ChildStdio& stdio);
// `process_json` is a file holding an OCI process object.
Result<ForkedOp> ForkExec(const runtime::oci::RuntimeOptions& rt, const std::string& id,
                          const std::string& process_json, const ChildStdio& stdio);

// Reads the report of a child that has exited (so all of it is in the
// pipe; the container's process may still hold the write end, so this reads
// what is there instead of waiting for EOF). Its pid on success.
Result<pid_t> ReadForkResult(int result);

}  // namespace berth::shim
