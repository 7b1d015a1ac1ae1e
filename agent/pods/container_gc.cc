#include "agent/pods/container_gc.h"

#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "common/file.h"

namespace berth::agent {
namespace {

Status Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error::Sys("unlink", path);
  return Ok();
}

// The log and what rotation made of it (<log>.<suffix>).
Status RemoveLogFiles(const std::string& log_path) {
  if (log_path.empty()) return Ok();
  BERTH_TRY(Unlink(log_path));
  size_t slash = log_path.rfind('/');
  if (slash == std::string::npos) return Ok();
  std::string dir = log_path.substr(0, slash);
  std::string rotated_prefix = log_path.substr(slash + 1) + ".";
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return names.error().sys_errno() == ENOENT ? Ok() : Status(names.error());
  for (const std::string& name : *names)
    if (name.starts_with(rotated_prefix)) BERTH_TRY(Unlink(dir + "/" + name));
  return Ok();
}

}  // namespace

ContainerGcPlan PlanContainerGc(const RuntimePod& rt) {
  ContainerGcPlan plan;
  // Only exited instances count as dead: a created one may be the instance
  // the worker is about to start.
  std::set<std::string> kept_exited;  // container names
  std::set<const v1::ContainerStatus*> removed;
  for (const v1::ContainerStatus& c : rt.containers) {  // newest first
    if (c.state() != v1::CONTAINER_EXITED) continue;
    if (kept_exited.insert(c.metadata().name()).second) continue;
    plan.containers.push_back(&c);
    removed.insert(&c);
  }
  std::map<std::string, int> left;  // sandbox id -> containers that stay
  for (const v1::ContainerStatus& c : rt.containers)
    if (!removed.contains(&c)) ++left[SandboxIdOf(c)];
  bool kept_dead_sandbox = false;
  for (const v1::PodSandboxStatus& s : rt.sandboxes) {  // newest first
    if (s.state() == v1::SANDBOX_READY || left[s.id()] > 0) continue;
    if (!kept_dead_sandbox) {
      kept_dead_sandbox = true;
      continue;
    }
    plan.sandboxes.push_back(&s);
  }
  return plan;
}

Status CollectContainerGarbage(CriClient& cri, const RuntimePod& rt,
                               const std::string& messages_dir) {
  ContainerGcPlan plan = PlanContainerGc(rt);
  Status first;
  auto note = [&](Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  for (const v1::ContainerStatus* c : plan.containers) {
    v1::RemoveContainerRequest req;
    req.set_container_id(c->id());
    v1::RemoveContainerResponse resp;
    Status removed = cri.Call(&v1::RuntimeService::Stub::RemoveContainer, req, &resp,
                              "RemoveContainer " + c->id());
    if (!removed.ok()) {
      note(std::move(removed));
      continue;
    }
    note(RemoveLogFiles(c->log_path()));
    note(Unlink(messages_dir + "/" + c->metadata().name() + "/" + std::to_string(Attempt(*c))));
  }
  for (const v1::PodSandboxStatus* s : plan.sandboxes) {
    v1::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(s->id());
    v1::RemovePodSandboxResponse resp;
    note(cri.Call(&v1::RuntimeService::Stub::RemovePodSandbox, req, &resp,
                  "RemovePodSandbox " + s->id()));
  }
  return first;
}

}  // namespace berth::agent
