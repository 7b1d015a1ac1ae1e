#pragma once
// Everything a container process needs, computed by the runtime before it
// clones: the child only executes named steps from this plan. The same plan
// drives the container init (create) and processes added with `exec`.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/cgroups.h"
#include "namespaces/namespace.h"
#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/spec.h"
#include "runtime/oci/sync.h"

namespace berth::runtime::oci {

struct NamespaceJoin {
  ns::Kind kind;
  int fd;            // opened by the parent; owned by the parent's plan
  std::string what;  // path, for errors
};

struct InitPlan {
  bool is_exec = false;
  const Spec* spec = nullptr;
  const Process* process = nullptr;
  std::string bundle;
  std::string rootfs;

  // Namespaces the child joins itself with setns (user and pid are joined
  // by a stage-1 helper before the clone when needed).
  std::vector<NamespaceJoin> joins;
  bool new_cgroup_ns = false;
  bool new_mount_ns = false;
  bool new_user_ns = false;
  bool new_net_ns = false;
  bool new_ipc_ns = false;

  bool has_cgroup = false;
  cgroups::Layout cgroup_layout;
  cgroups::Placement cgroup_placement;
  // How the child gets into the container's cgroup (owned by the runtime's
  // frame); null when the runtime moves it by pid.
  const cgroups::SpawnJoin* cgroup_join = nullptr;

  std::optional<security::CompiledSeccomp> seccomp;

  SyncChannel* channel = nullptr;
  int fifo_fd = -1;            // O_PATH fd of exec.fifo (init only)
  int console_socket_fd = -1;  // connected --console-socket (terminal only)
  int preserve_fds = 0;        // fds 3 .. 3+n-1 survive into the process
  bool no_pivot = false;
  bool no_new_keyring = false;
  std::string container_id;
};

// Runs the container init or an exec'd process in the freshly cloned child.
// Never returns: it execs the user process or reports an error on the
// channel and exits.
[[noreturn]] void RunChild(const InitPlan& plan);

}  // namespace berth::runtime::oci
