#pragma once
// Placing a process the runtime is about to create in a container's cgroup
// without writing its pid to cgroup.procs.
//
// Why: moving another process (a pid written to cgroup.procs or tasks) takes
// the kernel's global cgroup_threadgroup_rwsem for writing, which waits out
// an RCU grace period: 5-13 ms measured here, most of a container start.
// Two ways avoid it:
//  - v2: clone3(CLONE_INTO_CGROUP) with the cgroup directory's fd creates
//    the process in place (only a read lock);
//  - v1: a process with a single thread that writes "0" to a hierarchy's
//    `tasks` file moves itself without the global lock.
// The kernel checks a v1 write against the credentials of the file's opener,
// so the runtime opens the files and the child (even one already in a new
// user namespace) writes them.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth::cgroups {

struct SpawnJoin {
  struct File {
    UniqueFd fd;
    std::string path;
  };
  // The v2 (or hybrid unified) cgroup directory for CLONE_INTO_CGROUP; not
  // valid when no v2 hierarchy is part of the placement.
  File clone_into;
  // v1 `tasks` files, one per hierarchy.
  std::vector<File> self_join;

  // In the new process, while it has one thread: moves it through
  // `self_join`. Async-signal-safe apart from building an error.
  Status JoinSelf() const;
  // In the runtime, when the clone could not use `clone_into`: the slow way.
  Status AddWithoutCloneInto(pid_t pid) const;
};

}  // namespace berth::cgroups
