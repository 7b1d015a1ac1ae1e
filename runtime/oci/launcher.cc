#include "runtime/oci/launcher.h"

#include <fcntl.h>

#include "common/file.h"
#include "runtime/oci/seccomp_listener.h"

namespace berth::runtime::oci {

Status ServeUntilClosed(const SyncChannel& channel, const Spec& spec, pid_t pid,
                        const std::string& state_json) {
  while (true) {
    Result<SyncMessage> msg = channel.Receive();
    if (!msg.ok()) {
      if (msg.error().code() == Errc::kAborted) return Ok();  // closed
      return std::move(msg).error();
    }
    switch (msg->type) {
      case SyncType::kError:
        return Error(static_cast<Errc>(msg->value), msg->text);
      case SyncType::kSeccompFd:
        if (!msg->fd || !spec.linux_config.seccomp) {
          return Error(Errc::kInternal, "seccomp listener message without a listener");
        }
        BERTH_TRY(SendSeccompListener(*spec.linux_config.seccomp, msg->fd.get(), pid, state_json));
        break;
      default:
        return Error(Errc::kInternal,
                     "unexpected sync message " + std::to_string(static_cast<uint32_t>(msg->type)));
    }
  }
}

Status Launcher::Join(ns::Kind kind, const std::string& path, InitPlan& plan) {
  ns_fds_.push_back(BERTH_TRY(Open(path, O_RDONLY)));
  int fd = ns_fds_.back().get();
  if (kind == ns::Kind::kUser) {
    join_user_fd_ = fd;
  } else if (kind == ns::Kind::kPid) {
    join_pid_fd_ = fd;
  } else {
    plan.joins.push_back({kind, fd, path});
  }
  return Ok();
}

Result<Launcher::Launched> Launcher::Launch(InitPlan& plan, uint64_t clone_flags) const {
  auto [parent_end, child_end] = BERTH_TRY(SyncChannel::Pair());
  plan.channel = &child_end;  // used only in the child's copy of this frame
  SpawnRequest request;
  request.clone_flags = clone_flags;
  request.join_user_fd = join_user_fd_;
  request.join_pid_fd = join_pid_fd_;
  if (plan.cgroup_join) request.cgroup_fd = plan.cgroup_join->clone_into.fd.get();
  request.parent_end = &parent_end;
  request.child_end = &child_end;
  request.child_main = [&plan] { RunChild(plan); };
  Spawned child = BERTH_TRY(Spawn(request));
  plan.channel = nullptr;
  return Launched{child, std::move(parent_end)};
}

}  // namespace berth::runtime::oci
