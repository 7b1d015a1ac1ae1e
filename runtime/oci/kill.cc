// `kill`: a signal to the init (through a pidfd, so a reused pid is never
// signalled) or, with --all, to every process in the container's cgroup.

#include <signal.h>

#include "common/fd.h"
#include "namespaces/syscalls.h"
#include "runtime/oci/container.h"

namespace berth::runtime::oci {

Status KillContainer(const RuntimeOptions& rt, const std::string& id, int signal, bool all) {
  StateDir dir = BERTH_TRY(StateDir::Open(rt.root, id));
  ContainerState state = BERTH_TRY(dir.Load());
  if (ComputeStatus(state, dir) == ContainerStatus::kStopped) {
    return Error(Errc::kNotFound, "container not running");
  }
  if (all && state.has_cgroup) {
    cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(state.cgroup));
    return driver->Kill(signal);
  }
  UniqueFd pidfd(sys::PidfdOpen(state.pid));
  if (!pidfd) {
    if (errno == ESRCH) return Error(Errc::kNotFound, "container not running");
    return Error::Sys("pidfd_open", std::to_string(state.pid));
  }
  // The pidfd pins the process: check it is still ours, then signal.
  if (!ProcessAlive(state.pid, state.pid_start_time)) return Error(Errc::kNotFound, "container not running");
  if (sys::PidfdSendSignal(pidfd.get(), signal) != 0) {
    if (errno == ESRCH) return Error(Errc::kNotFound, "container not running");
    return Error::Sys("pidfd_send_signal", "container init " + std::to_string(state.pid));
  }
  return Ok();
}

}  // namespace berth::runtime::oci
