// `exec`: a new process in a running container. It joins every namespace of
// the container's init (user and pid through a stage-1 helper), its cgroup,
// and gets the container's seccomp profile, like runc's setns init.

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "common/file.h"
#include "common/process.h"
#include "common/unix_socket.h"
#include "runtime/oci/container.h"
#include "runtime/oci/foreground.h"
#include "runtime/oci/init/console.h"
#include "runtime/oci/init/init_plan.h"
#include "runtime/oci/launcher.h"

namespace berth::runtime::oci {
namespace {

Status CheckExecState(ContainerStatus status, bool ignore_paused) {
  if (status == ContainerStatus::kStopped) {
    return Error(Errc::kFailedPrecondition, "cannot exec in a stopped container");
  }
  if (status == ContainerStatus::kPaused && !ignore_paused) {
    return Error(Errc::kFailedPrecondition,
                 "cannot exec in a paused container (use --ignore-paused to override)");
  }
  return Ok();
}

struct Console {
  UniqueFd socket;     // what the process sends its pty master to
  UniqueFd local_end;  // foreground: where we receive it
};

Result<Console> MakeConsole(const ExecOptions& opts) {
  Console c;
  if (!opts.process.terminal) return c;
  if (opts.console_socket_fd >= 0) return c;
  if (!opts.console_socket.empty()) {
    c.socket = BERTH_TRY(ConnectUnix(opts.console_socket, "console socket"));
    return c;
  }
  if (opts.detach) {
    return Error(Errc::kInvalidArgument,
                 "cannot allocate tty if berth will detach without setting console socket");
  }
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return Error::Sys("socketpair", "console");
  c.local_end = UniqueFd(fds[0]);
  c.socket = UniqueFd(fds[1]);
  return c;
}

}  // namespace

Result<int> ExecInContainer(const RuntimeOptions& rt, const ExecOptions& opts) {
  StateDir dir = BERTH_TRY(StateDir::Open(rt.root, opts.id));
  ContainerState state = BERTH_TRY(dir.Load());
  BERTH_TRY(CheckExecState(ComputeStatus(state, dir), opts.ignore_paused));
  Spec spec = BERTH_TRY(dir.LoadSpec());
  BERTH_TRY(ValidateProcess(opts.process, "process"));

  InitPlan plan;
  plan.is_exec = true;
  plan.spec = &spec;
  plan.process = &opts.process;
  plan.bundle = state.bundle;
  plan.rootfs = state.rootfs;
  plan.container_id = opts.id;
  plan.preserve_fds = opts.preserve_fds;
  if (spec.linux_config.seccomp) {
    plan.seccomp =
        BERTH_TRY(security::CompileSeccompCached(*spec.linux_config.seccomp, rt.SeccompCacheDir()));
  }
  Console console = BERTH_TRY(MakeConsole(opts));
  plan.console_socket_fd =
      opts.console_socket_fd >= 0 ? opts.console_socket_fd : console.socket.get();

  // Every namespace the container lists, taken from its init.
  Launcher launcher;
  for (const Namespace& n : spec.linux_config.namespaces) {
    BERTH_TRY(launcher.Join(n.kind, ns::ProcPath(state.pid, n.kind), plan));
  }
  // The init may have exited while we opened its namespaces.
  if (!ProcessAlive(state.pid, state.pid_start_time)) {
    return Error(Errc::kFailedPrecondition, "cannot exec in a stopped container");
  }
  cgroups::SpawnJoin cgroup_join;
  if (state.has_cgroup) {
    cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(state.cgroup));
    cgroup_join = BERTH_TRY_CTX(driver->OpenSpawnJoin(), "join container cgroup");
    plan.cgroup_join = &cgroup_join;
  }
  auto [child, channel] = BERTH_TRY(launcher.Launch(plan, 0));
  ChildGuard guard(child.pid);
  console.socket.reset();
  if (!child.in_cgroup)
    BERTH_TRY_CTX(cgroup_join.AddWithoutCloneInto(child.pid), "join container cgroup");
  BERTH_TRY(channel.Send(SyncType::kGo));
  // Served until execve closes the (close-on-exec) channel.
  BERTH_TRY(
      ServeUntilClosed(channel, spec, child.pid, OciStateJson(state, ContainerStatus::kRunning)));
  if (!opts.pid_file.empty())
    BERTH_TRY(
        WriteFileAtomic(opts.pid_file, std::to_string(child.pid), 0644, Durability::kProcessCrash));
  if (opts.started_pid != nullptr) *opts.started_pid = child.pid;
  if (opts.detach) {
    guard.release();
    return 0;
  }
  UniqueFd master;
  if (console.local_end) master = BERTH_TRY(ReceiveFd(console.local_end.get()));
  int code = BERTH_TRY(SuperviseForeground(guard.release(), master.get()));
  return code;
}

}  // namespace berth::runtime::oci
