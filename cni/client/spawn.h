#pragma once
// Running a plugin executable from a multithreaded process (the CRI gRPC
// server): posix_spawn, not fork.
//
// Why not common/process.h RunCommand: after fork() in a multithreaded
// process the child may call only async-signal-safe functions, but
// RunCommand's child allocates (argv/envp vectors), uses execvpe (a PATH
// search that allocates) and dprintf; fork also runs pthread_atfork
// handlers (gRPC installs some) and copies the parent's page tables. And
// RunCommand sets SIGPIPE to SIG_IGN process-wide, which the child then
// inherits across exec. Here:
// - argv/envp are built before spawning; glibc's posix_spawn uses
//   clone(CLONE_VM|CLONE_VFORK) and runs no atfork handlers;
// - the child gets an empty signal mask, default signal dispositions, its
//   own process group (so a timeout kills delegated IPAM plugins too), and
//   every fd but 0-2 closed (fds other threads opened without O_CLOEXEC do
//   not leak into plugins);
// - SIGPIPE from writing stdin to an early-exiting plugin is blocked in the
//   calling thread only and consumed, never ignored process-wide;
// - exit is noticed through a pidfd, so a grandchild that keeps stdout open
//   does not hold us until the timeout.

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::cni {

struct SpawnRequest {
  std::string path;               // absolute path of the executable
  std::vector<std::string> argv;  // empty: {path}
  std::vector<std::string> env;   // the complete environment
  std::string stdin_data;
  std::chrono::milliseconds timeout{60'000};
};

struct SpawnResult {
  int exit_code = -1;   // when it exited
  int term_signal = 0;  // when a signal killed it
  bool timed_out = false;
  std::string out;
  std::string err;

  bool success() const { return exit_code == 0 && !timed_out; }
  std::string Describe() const;  // "exit status 1", "killed by signal 9", "timed out"
};

// Spawns, feeds stdin, collects stdout/stderr and reaps. A timeout SIGKILLs
// the child's whole process group and is reported as timed_out, not as an
// error; errors are failures to spawn (ENOENT, EACCES, ...).
Result<SpawnResult> SpawnAndWait(const SpawnRequest& request);

}  // namespace berth::cni
