// `start`: releases the init blocked on exec.fifo, then runs poststart hooks.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "common/file.h"
#include "runtime/oci/container.h"
#include "runtime/oci/hooks.h"

namespace berth::runtime::oci {
namespace {

// Waits for the init to close its end of the fifo, which it keeps open
// (close-on-exec) through the startContainer hooks until execve; or to die.
Status WaitInitExec(int fifo, const StateDir& dir, const ContainerState& state) {
  while (ProcessAlive(state.pid, state.pid_start_time)) {
    pollfd p{fifo, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno != EINTR) return Error::Sys("poll", dir.FifoPath());
    if (r <= 0) continue;
    char byte;
    ssize_t n = ::read(fifo, &byte, 1);
    if (n == 0) return Ok();
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Error::Sys("read", dir.FifoPath());
  }
  return Ok();
}

// Opens the fifo without blocking (a dead init would never open its end),
// waits for the init's byte while checking it is still alive, then for the
// init to execute the user process.
Status ReleaseInit(const StateDir& dir, const ContainerState& state) {
  UniqueFd fifo = BERTH_TRY(Open(dir.FifoPath(), O_RDONLY | O_NONBLOCK));
  while (true) {
    pollfd p{fifo.get(), POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno != EINTR) return Error::Sys("poll", dir.FifoPath());
    if (r > 0 && (p.revents & POLLIN)) {
      char byte;
      ssize_t n = ::read(fifo.get(), &byte, 1);
      if (n == 1) return WaitInitExec(fifo.get(), dir, state);
      if (n < 0 && errno == EAGAIN) continue;
      return Error(Errc::kInternal, "container init closed the exec fifo without starting");
    }
    if (!ProcessAlive(state.pid, state.pid_start_time)) {
      return Error(Errc::kFailedPrecondition, "cannot start a container that has stopped");
    }
  }
}

}  // namespace

Status StartContainer(const RuntimeOptions& rt, const std::string& id) {
  StateDir dir = BERTH_TRY(StateDir::Open(rt.root, id));
  ContainerState state = BERTH_TRY(dir.Load());
  switch (ComputeStatus(state, dir)) {
    case ContainerStatus::kStopped:
      return Error(Errc::kFailedPrecondition, "cannot start a container that has stopped");
    case ContainerStatus::kRunning:
      return Error(Errc::kFailedPrecondition, "cannot start an already running container");
    case ContainerStatus::kPaused:
      // A created container can be paused (as runc allows); it stays so.
      return Error(Errc::kFailedPrecondition, "cannot start a container in the paused state");
    default:
      break;
  }
  BERTH_TRY(ReleaseInit(dir, state));
  if (::unlink(dir.FifoPath().c_str()) != 0 && errno != ENOENT)
    return Error::Sys("unlink", dir.FifoPath());
  Spec spec = BERTH_TRY(dir.LoadSpec());
  Status hooks =
      RunHooks(spec.hooks.poststart, "poststart", OciStateJson(state, ContainerStatus::kRunning));
  if (!hooks.ok()) {
    // runc's behaviour: a failed poststart hook takes the container down.
    (void)KillContainer(rt, id, SIGKILL, true);
    return hooks;
  }
  return Ok();
}

}  // namespace berth::runtime::oci
