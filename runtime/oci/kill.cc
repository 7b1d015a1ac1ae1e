// `kill`: a signal to the init (through a pidfd, so a reused pid is never
// signalled) or, with --all, to every process in the container's cgroup and
// to the init itself.

#include <signal.h>

#include "common/fd.h"
#include "namespaces/syscalls.h"
#include "runtime/oci/container.h"

namespace berth::runtime::oci {
namespace {

Error NotRunning() {
  return Error(Errc::kNotFound, "container not running");
}

Status SignalInit(const ContainerState& state, int signal) {
  UniqueFd pidfd(sys::PidfdOpen(state.pid));
  if (!pidfd) {
    if (errno == ESRCH) return NotRunning();
    return Error::Sys("pidfd_open", std::to_string(state.pid));
  }
  // The pidfd pins the process: check it is still ours, then signal.
  if (!ProcessAlive(state.pid, state.pid_start_time)) return NotRunning();
  if (sys::PidfdSendSignal(pidfd.get(), signal) != 0) {
    if (errno == ESRCH) return NotRunning();
    return Error::Sys("pidfd_send_signal", "container init " + std::to_string(state.pid));
  }
  return Ok();
}

}  // namespace

Status KillContainer(const RuntimeOptions& rt, const std::string& id, int signal, bool all) {
  StateDir dir = BERTH_TRY(StateDir::Open(rt.root, id));
  ContainerState state = BERTH_TRY(dir.Load());
  bool stopped = ComputeStatus(state, dir) == ContainerStatus::kStopped;
  if (!all || !state.has_cgroup) return stopped ? NotRunning() : SignalInit(state, signal);
  // As runc, --all reaches what is left in the cgroup after the init has
  // exited too (children of a container without its own pid namespace).
  cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(state.cgroup));
  Status killed = driver->Kill(signal);
  if (stopped && !killed.ok() && killed.error().sys_errno() == ENOENT) return Ok();  // cgroup gone
  BERTH_TRY(killed);
  if (stopped) return Ok();
  // A process can leave the cgroup (a supervisor that adopts orphans may
  // move it), but the init is the container: signal it directly too.
  Status init = SignalInit(state, signal);
  if (!init.ok() && init.error().code() != Errc::kNotFound) return init;
  return Ok();
}

}  // namespace berth::runtime::oci
