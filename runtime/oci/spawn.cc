#include "runtime/oci/spawn.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/process.h"
#include "namespaces/namespace.h"
#include "namespaces/syscalls.h"

namespace berth::runtime::oci {
namespace {

Result<pid_t> Clone(uint64_t flags) {
  clone_args args{};
  args.flags = flags;
  // clone3 refuses an exit signal with CLONE_PARENT: the child inherits the
  // caller's, which is SIGCHLD to the runtime.
  args.exit_signal = (flags & CLONE_PARENT) != 0 ? 0 : SIGCHLD;
  long pid = sys::Clone3(&args);
  if (pid < 0) return Error::Sys("clone3", "container process");
  return static_cast<pid_t>(pid);
}

[[noreturn]] void RunChildMain(const SpawnRequest& req) {
  req.parent_end->Close();
  req.child_main();
  _exit(1);  // child_main never returns
}

// Joins the user and pid namespaces; errors go to the runtime.
Status JoinForChildren(const SpawnRequest& req) {
  if (req.join_user_fd >= 0)
    BERTH_TRY(ns::JoinFd(req.join_user_fd, ns::Kind::kUser, "of the container"));
  if (req.join_pid_fd >= 0)
    BERTH_TRY(ns::JoinFd(req.join_pid_fd, ns::Kind::kPid, "of the container"));
  return Ok();
}

[[noreturn]] void StageOne(const SpawnRequest& req) {
  req.parent_end->Close();
  Status joined = JoinForChildren(req);
  if (!joined.ok()) {
    req.child_end->SendError(joined.error());
    _exit(1);
  }
  Result<pid_t> pid = Clone(req.clone_flags | CLONE_PARENT);
  if (!pid.ok()) {
    req.child_end->SendError(pid.error());
    _exit(1);
  }
  if (*pid == 0) {
    req.child_main();
    _exit(1);
  }
  // The pid as seen from our (the runtime's) pid namespace.
  (void)req.child_end->Send(SyncType::kChildPid, *pid);
  _exit(0);
}

}  // namespace

Result<Spawned> Spawn(const SpawnRequest& req) {
  bool stage_one = req.join_user_fd >= 0 || req.join_pid_fd >= 0;
  if (!stage_one) {
    pid_t pid = BERTH_TRY(Clone(req.clone_flags));
    if (pid == 0) RunChildMain(req);
    req.child_end->Close();
    return Spawned{pid};
  }
  pid_t helper = ::fork();
  if (helper < 0) return Error::Sys("fork", "stage-1 helper");
  if (helper == 0) StageOne(req);
  req.child_end->Close();
  int status = BERTH_TRY(WaitPid(helper));
  Result<SyncMessage> msg = req.parent_end->Expect(SyncType::kChildPid, "stage-1 helper");
  if (!msg.ok()) return std::move(msg).error();
  if (status != 0) {
    return Error(Errc::kInternal, "stage-1 helper exited with status " + std::to_string(status));
  }
  return Spawned{static_cast<pid_t>(msg->value)};
}

}  // namespace berth::runtime::oci
