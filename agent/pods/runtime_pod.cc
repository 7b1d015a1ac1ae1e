#include "agent/pods/runtime_pod.h"

#include <algorithm>

#include "agent/pods/sandbox_config.h"

namespace berth::agent {

namespace {

constexpr const char* kSandboxIdLabel = "io.kubernetes.sandbox.id";

}  // namespace

const v1::PodSandboxStatus* RuntimePod::Sandbox() const {
  return sandboxes.empty() ? nullptr : &sandboxes.front();
}

bool RuntimePod::SandboxReady() const {
  return Sandbox() != nullptr && Sandbox()->state() == v1::SANDBOX_READY;
}

std::vector<const v1::ContainerStatus*> RuntimePod::Instances(const std::string& name) const {
  std::vector<const v1::ContainerStatus*> out;
  for (const v1::ContainerStatus& c : containers)
    if (c.metadata().name() == name) out.push_back(&c);
  return out;
}

const v1::ContainerStatus* RuntimePod::Current(const std::string& name) const {
  const v1::PodSandboxStatus* sandbox = Sandbox();
  if (sandbox == nullptr) return nullptr;
  for (const v1::ContainerStatus& c : containers) {
    if (c.metadata().name() == name && SandboxIdOf(c) == sandbox->id()) return &c;
  }
  return nullptr;
}

std::vector<std::string> RuntimePod::PodIps() const {
  std::vector<std::string> out;
  const v1::PodSandboxStatus* s = Sandbox();
  if (s == nullptr || s->network().ip().empty()) return out;
  out.push_back(s->network().ip());
  for (const v1::PodIP& ip : s->network().additional_ips())
    out.push_back(ip.ip());
  return out;
}

uint32_t Attempt(const v1::ContainerStatus& c) {
  return c.metadata().attempt();
}

std::string SandboxIdOf(const v1::ContainerStatus& c) {
  auto it = c.labels().find(kSandboxIdLabel);
  return it == c.labels().end() ? "" : it->second;
}

Result<RuntimePod> InspectPod(CriClient& cri, const std::string& uid) {
  RuntimePod pod;
  v1::ListPodSandboxRequest list_sandboxes;
  (*list_sandboxes.mutable_filter()->mutable_label_selector())[kPodUidLabel] = uid;
  v1::ListPodSandboxResponse sandboxes;
  BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::ListPodSandbox, list_sandboxes, &sandboxes,
                     "ListPodSandbox of pod " + uid));
  for (const v1::PodSandbox& s : sandboxes.items()) {
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(s.id());
    v1::PodSandboxStatusResponse resp;
    Status st = cri.Call(&v1::RuntimeService::Stub::PodSandboxStatus, req, &resp,
                         "PodSandboxStatus " + s.id());
    if (!st.ok()) {
      if (st.error().code() == Errc::kNotFound) continue;  // removed meanwhile
      return st.error();
    }
    pod.sandboxes.push_back(resp.status());
  }
  std::sort(pod.sandboxes.begin(), pod.sandboxes.end(), [](const auto& a, const auto& b) {
    return a.metadata().attempt() != b.metadata().attempt()
               ? a.metadata().attempt() > b.metadata().attempt()
               : a.created_at() > b.created_at();
  });

  v1::ListContainersRequest list_containers;
  (*list_containers.mutable_filter()->mutable_label_selector())[kPodUidLabel] = uid;
  v1::ListContainersResponse containers;
  BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::ListContainers, list_containers, &containers,
                     "ListContainers of pod " + uid));
  for (const v1::Container& c : containers.containers()) {
    v1::ContainerStatusRequest req;
    req.set_container_id(c.id());
    v1::ContainerStatusResponse resp;
    Status st = cri.Call(&v1::RuntimeService::Stub::ContainerStatus, req, &resp,
                         "ContainerStatus " + c.id());
    if (!st.ok()) {
      if (st.error().code() == Errc::kNotFound) continue;
      return st.error();
    }
    v1::ContainerStatus status = resp.status();
    // The status has no sandbox id; keep the list's in a label of our own.
    (*status.mutable_labels())[kSandboxIdLabel] = c.pod_sandbox_id();
    pod.containers.push_back(std::move(status));
  }
  std::sort(pod.containers.begin(), pod.containers.end(), [](const auto& a, const auto& b) {
    return a.metadata().attempt() != b.metadata().attempt()
               ? a.metadata().attempt() > b.metadata().attempt()
               : a.created_at() > b.created_at();
  });
  return pod;
}

}  // namespace berth::agent
