#include "runtime/oci/spawn.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>

#include "common/process.h"
#include "namespaces/namespace.h"
#include "namespaces/syscalls.h"

namespace berth::runtime::oci {
namespace {

// kChildPid's text when the stage-1 helper cloned into the cgroup.
constexpr std::string_view kInCgroup = "in-cgroup";

struct Cloned {
  pid_t pid;
  bool in_cgroup;
};

Result<Cloned> Clone(uint64_t flags, int cgroup_fd) {
  clone_args args{};
  args.flags = flags;
  // clone3 refuses an exit signal with CLONE_PARENT: the child inherits the
  // caller's, which is SIGCHLD to the runtime.
  args.exit_signal = (flags & CLONE_PARENT) != 0 ? 0 : SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    long pid = sys::Clone3(&args);
    if (pid >= 0) return Cloned{static_cast<pid_t>(pid), true};
    // Whatever the reason, the caller's pid write reports it better.
    args.flags = flags;
    args.cgroup = 0;
  }
  long pid = sys::Clone3(&args);
  if (pid < 0) return Error::Sys("clone3", "container process");
  return Cloned{static_cast<pid_t>(pid), false};
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
  int cgroup_fd = req.join_user_fd >= 0 ? -1 : req.cgroup_fd;
  Result<Cloned> child = Clone(req.clone_flags | CLONE_PARENT, cgroup_fd);
  if (!child.ok()) {
    req.child_end->SendError(child.error());
    _exit(1);
  }
  if (child->pid == 0) {
    req.child_main();
    _exit(1);
  }
  // The pid as seen from our (the runtime's) pid namespace.
  (void)req.child_end->Send(SyncType::kChildPid, child->pid,
                            child->in_cgroup ? kInCgroup : std::string_view{});
  _exit(0);
}

}  // namespace

Result<Spawned> Spawn(const SpawnRequest& req) {
  bool stage_one = req.join_user_fd >= 0 || req.join_pid_fd >= 0;
  if (!stage_one) {
    Cloned child = BERTH_TRY(Clone(req.clone_flags, req.cgroup_fd));
    if (child.pid == 0) RunChildMain(req);
    req.child_end->Close();
    return Spawned{child.pid, child.in_cgroup};
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
  return Spawned{static_cast<pid_t>(msg->value), msg->text == kInCgroup};
}

}  // namespace berth::runtime::oci
