#pragma once
// From a computed InitPlan to a running container process: collects the
// namespaces to join (user and pid through the stage-1 helper, the rest by
// the child itself), then clones the child running RunChild(plan) and hands
// back our end of the sync channel. Used by `create` and `exec`.

#include <utility>
#include <vector>

#include "common/fd.h"
#include "runtime/oci/init/init_plan.h"
#include "runtime/oci/spawn.h"

namespace berth::runtime::oci {

// Serves the child until it closes its end of `channel` (the init is ready,
// or an exec'd process has called execve): a kError becomes this call's
// error, a seccomp listener is forwarded to linux.seccomp.listenerPath with
// `state_json` and the child's `pid`.
Status ServeUntilClosed(const SyncChannel& channel, const Spec& spec, pid_t pid,
                        const std::string& state_json);

class Launcher {
 public:
  // Opens the namespace file at `path` now, in the runtime's own view.
  Status Join(ns::Kind kind, const std::string& path, InitPlan& plan);

  struct Launched {
    Spawned child;
    SyncChannel channel;  // the runtime's end
  };
  // With plan.cgroup_join set, the child is created in the cgroup's v2
  // hierarchy when the kernel allows and joins the v1 ones itself; the
  // caller finishes with cgroup_join->AddWithoutCloneInto unless
  // child.in_cgroup.
  Result<Launched> Launch(InitPlan& plan, uint64_t clone_flags) const;

 private:
  std::vector<UniqueFd> ns_fds_;
  int join_user_fd_ = -1;
  int join_pid_fd_ = -1;
};

}  // namespace berth::runtime::oci
