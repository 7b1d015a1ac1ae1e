// Container exits: one thread per shim reads its `exit` events; on start the
// records are reconciled with the shims' exit files, so exits that happened
// while berth cri was down are reported too.

#include <sys/socket.h>
#include <sys/wait.h>

#include <cstdlib>

#include "common/log.h"
#include "runtime/cri/server/helpers.h"
#include "runtime/cri/server/runtime_service.h"
#include "runtime/shim/client.h"
#include "runtime/shim/protocol.h"

namespace berth::cri {

void RuntimeService::WatchShim(const std::string& sandbox_id, const std::string& shim_dir) {
  Result<UniqueFd> conn = shim::Subscribe(shim_dir);
  if (!conn.ok()) {
    BLOG(kError) << "pod " << sandbox_id << ": " << conn.error().str();
    return;
  }
  std::lock_guard lock(watchers_mu_);
  int fd = conn->get();
  watcher_fds_[sandbox_id] = fd;
  watchers_[sandbox_id] = std::thread([this, fd, sandbox_id, c = std::move(*conn)] {
    for (;;) {
      Result<shim::Message> msg = shim::Receive(fd);
      if (!msg.ok() || msg->closed()) break;
      if (msg->verb() != "exit") continue;
      ApplyExit(msg->field(1), std::atoi(msg->field(2).c_str()),
                std::strtoll(msg->field(3).c_str(), nullptr, 10));
    }
    if (!stopping_) BLOG(kInfo) << "pod " << sandbox_id << ": shim connection closed";
  });
}

void RuntimeService::StopWatcher(const std::string& sandbox_id) {
  std::thread t;
  {
    std::lock_guard lock(watchers_mu_);
    auto fd = watcher_fds_.find(sandbox_id);
    if (fd != watcher_fds_.end()) {
      ::shutdown(fd->second, SHUT_RDWR);
      watcher_fds_.erase(fd);
    }
    auto it = watchers_.find(sandbox_id);
    if (it == watchers_.end()) return;
    t = std::move(it->second);
    watchers_.erase(it);
  }
  if (t.joinable()) t.join();
}

void RuntimeService::StopWatchers() {
  stopping_ = true;
  std::vector<std::string> ids;
  {
    std::lock_guard lock(watchers_mu_);
    for (auto& [id, t] : watchers_)
      ids.push_back(id);
  }
  for (const std::string& id : ids)
    StopWatcher(id);
}

void RuntimeService::ApplyExit(const std::string& id, int wait_status, int64_t finished_ns) {
  std::optional<SandboxRecord> sandbox = store_->Sandbox(id);
  if (sandbox) {  // the pause process: the pod is no longer ready
    if (sandbox->ready()) {
      sandbox->set_ready(false);
      (void)store_->Put(*sandbox, Durability::kProcessCrash);
    }
    return;
  }
  std::optional<ContainerRecord> r;
  {
    std::lock_guard lock(exit_mu_);
    r = store_->Container(id);
    if (!r || r->state() == v1::CONTAINER_EXITED) return;
    int code = WIFEXITED(wait_status)
                   ? WEXITSTATUS(wait_status)
                   : 128 + (WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0);
    r->set_state(v1::CONTAINER_EXITED);
    r->set_exit_code(code);
    r->set_finished_at(finished_ns > 0 ? finished_ns : NowNs());
    Result<uint64_t> ooms = oci::ContainerOomKills(OciOptions(), id);
    if (ooms.ok() && *ooms > 0) {
      r->set_reason("OOMKilled");
    } else {
      r->set_reason(code == 0 ? "Completed" : "Error");
    }
    berth::Status saved = store_->Put(*r, Durability::kProcessCrash);
    if (!saved.ok()) BLOG(kError) << "container " << id << ": " << saved.error().str();
  }
  exit_cv_.notify_all();
  Emit(v1::CONTAINER_STOPPED_EVENT, *r);
}

Status RuntimeService::Readopt() {
  for (const SandboxRecord& s : store_->Sandboxes()) {
    if (s.shim_dir().empty()) continue;
    bool alive = shim::List(s.shim_dir()).ok();
    if (alive) WatchShim(s.id(), s.shim_dir());
    // Exits recorded while nobody listened (also the pause's).
    std::vector<std::string> ids = {s.id()};
    for (const ContainerRecord& c : store_->ContainersOf(s.id())) {
      if (c.state() != v1::CONTAINER_EXITED) ids.push_back(c.id());
    }
    for (const std::string& id : ids) {
      Result<std::optional<shim::ExitRecord>> exit = shim::ReadExitRecord(s.shim_dir(), id);
      if (exit.ok() && exit->has_value()) {
        ApplyExit(id, (*exit)->status, (*exit)->finished_ns);
      } else if (!alive && id != s.id()) {
        // The shim is gone and with it what it knew: the container is lost.
        ApplyExit(id, 255 << 8, 0);
      }
    }
    if (!alive && s.ready()) ApplyExit(s.id(), 255 << 8, 0);
  }
  return Ok();
}

}  // namespace berth::cri
