#pragma once
// Creating the process that becomes a container's init or an exec'd process.
//
// Normally one clone3(2) with the CLONE_NEW* flags of the namespaces to
// create. Joining a pid namespace only affects children, and namespaces
// created after joining a user namespace must be owned by it, so when the
// spec joins either, a short-lived stage-1 child joins them first and clones
// the real process with CLONE_PARENT, making it our child all the same.

#include <sys/types.h>

#include <cstdint>
#include <functional>

#include "common/error.h"
#include "runtime/oci/sync.h"

namespace berth::runtime::oci {

struct SpawnRequest {
  uint64_t clone_flags = 0;  // CLONE_NEW* to create (never CLONE_NEWCGROUP)
  int join_user_fd = -1;     // namespaces stage 1 joins, or -1
  int join_pid_fd = -1;
  // A v2 cgroup directory to create the process in (CLONE_INTO_CGROUP), or
  // -1. Not used after joining a user namespace, whose owner may not write
  // the host's cgroups.
  int cgroup_fd = -1;
  SyncChannel* parent_end = nullptr;  // closed in the children
  SyncChannel* child_end = nullptr;   // closed in the parent after spawning
  std::function<void()> child_main;   // must not return
};

struct Spawned {
  pid_t pid = -1;  // our child
  // Created in request.cgroup_fd's cgroup; false when the kernel refused
  // CLONE_INTO_CGROUP (older than 5.7, say) and the caller must move it.
  bool in_cgroup = false;
};
Result<Spawned> Spawn(const SpawnRequest& request);

}  // namespace berth::runtime::oci
