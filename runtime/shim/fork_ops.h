#pragma once
// The shim's container operations, each run by `berth-shim-runtime` in a
// forked and exec'd child, so that the runtime's code and allocations never
// enter the long-lived shim (its binary holds no runtime code at all: every
// text page of it counts in each pod's RSS). The child creates the container
// (or starts an exec process), reports `ok <pid>` / `err <code> <message>`
// on a pipe and exits. The shim is a child subreaper, so the container's
// process is reparented to it and the shim is the one that reaps it.

#include <sys/types.h>

#include <string>

#include "common/error.h"
#include "common/fd.h"

namespace berth::shim {

// How to run berth-shim-runtime (see runtime_main.cc).
struct RuntimeCommand {
  std::string binary;       // path of berth-shim-runtime
  std::string root;         // the OCI runtime's state directory (--root)
  std::string cgroup_root;  // "" = the runtime's default
};

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

Result<ForkedOp> ForkCreate(const RuntimeCommand& rt, const std::string& id,
                            const std::string& bundle, const ChildStdio& stdio);
// `process_json` is a file holding an OCI process object.
Result<ForkedOp> ForkExec(const RuntimeCommand& rt, const std::string& id,
                          const std::string& process_json, const ChildStdio& stdio);

// Reads the report of a child that has exited (so all of it is in the
// pipe; the container's process may still hold the write end, so this reads
// what is there instead of waiting for EOF). Its pid on success.
Result<pid_t> ReadForkResult(int result);

// The report's wire form, written by berth-shim-runtime.
std::string FormatForkResult(const Result<pid_t>& result);

}  // namespace berth::shim
