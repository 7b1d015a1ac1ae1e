#include "agent/server/pod_runtime.h"

#include <algorithm>
#include <map>

#include "common/strings.h"

namespace berth::agent::kubelet {
namespace {

namespace bj = boost::json;

const bj::value* Lookup(const bj::object& o, std::initializer_list<std::string_view> path) {
  const bj::value* v = nullptr;
  const bj::object* at = &o;
  for (std::string_view key : path) {
    if (at == nullptr) return nullptr;
    v = at->if_contains(key);
    if (v == nullptr) return nullptr;
    at = v->is_object() ? &v->as_object() : nullptr;
  }
  return v;
}

std::string Str(const bj::object& o, std::initializer_list<std::string_view> path) {
  const bj::value* v = Lookup(o, path);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

const bj::object* Obj(const bj::object& o, std::initializer_list<std::string_view> path) {
  const bj::value* v = Lookup(o, path);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

// The element of array `path` whose "name" is `name`.
const bj::object* Named(const bj::object& o, std::initializer_list<std::string_view> path,
                        const std::string& name) {
  const bj::value* v = Lookup(o, path);
  if (v == nullptr || !v->is_array()) return nullptr;
  for (const bj::value& e : v->as_array()) {
    if (e.is_object() && Str(e.as_object(), {"name"}) == name) return &e.as_object();
  }
  return nullptr;
}

// Go's %q for the names kubelet quotes.
std::string Quote(const std::string& s) {
  return JsonQuote(s);
}

Error LogError(const std::string& message) {
  return Error(Errc::kInvalidArgument, message);
}

// Whether a container whose newest instance exited with `exit_code` gets
// restarted (then its status is waiting, with that instance as lastState).
bool WillRestart(const bj::object& pod, const std::string& container, int exit_code) {
  if (Lookup(pod, {"metadata", "deletionTimestamp"}) != nullptr) return false;
  std::string policy = Str(pod, {"spec", "restartPolicy"});
  if (policy.empty()) policy = "Always";
  if (const bj::object* init = Named(pod, {"spec", "initContainers"}, container)) {
    if (Str(*init, {"restartPolicy"}) == "Always") return true;  // a sidecar
    return policy != "Never" && exit_code != 0;
  }
  if (policy == "Always") return true;
  return policy == "OnFailure" && exit_code != 0;
}

}  // namespace

std::string StripRuntimeScheme(const std::string& container_id) {
  size_t sep = container_id.find("://");
  return sep == std::string::npos ? container_id : container_id.substr(sep + 3);
}

Result<std::vector<v1::Container>> PodRuntime::Containers(const std::string& ns,
                                                          const std::string& pod,
                                                          const std::string& uid,
                                                          const std::string& container,
                                                          bool running_only) {
  v1::ListContainersRequest req;
  auto& labels = *req.mutable_filter()->mutable_label_selector();
  labels[kPodNamespaceLabel] = ns;
  labels[kPodNameLabel] = pod;
  labels[kContainerNameLabel] = container;
  if (!uid.empty()) labels[kPodUidLabel] = uid;
  if (running_only) req.mutable_filter()->mutable_state()->set_state(v1::CONTAINER_RUNNING);
  v1::ListContainersResponse resp;
  BERTH_TRY(cri_.Call(&v1::RuntimeService::Stub::ListContainers, req, &resp,
                      "ListContainers of " + ns + "/" + pod));
  std::vector<v1::Container> out(resp.containers().begin(), resp.containers().end());
  auto restarts = [](const v1::Container& c) {
    auto it = c.annotations().find(kRestartCountAnnotation);
    if (it == c.annotations().end()) return int64_t{-1};
    return ParseInt<int64_t>(it->second, "restartCount").value_or(-1);
  };
  // Newest first: by creation, then by restart count.
  std::sort(out.begin(), out.end(), [&](const v1::Container& a, const v1::Container& b) {
    if (a.created_at() != b.created_at()) return a.created_at() > b.created_at();
    return restarts(a) > restarts(b);
  });
  return out;
}

Result<std::string> PodRuntime::RunningContainer(const std::string& ns, const std::string& pod,
                                                 const std::string& uid,
                                                 const std::string& container) {
  std::vector<v1::Container> found = BERTH_TRY(Containers(ns, pod, uid, container, true));
  if (found.empty())
    return Error(Errc::kNotFound, "container not found (" + Quote(container) + ")");
  return found.front().id();
}

Result<std::string> PodRuntime::ReadySandbox(const std::string& ns, const std::string& pod,
                                             const std::string& uid) {
  v1::ListPodSandboxRequest req;
  auto& labels = *req.mutable_filter()->mutable_label_selector();
  labels[kPodNamespaceLabel] = ns;
  labels[kPodNameLabel] = pod;
  if (!uid.empty()) labels[kPodUidLabel] = uid;
  req.mutable_filter()->mutable_state()->set_state(v1::SANDBOX_READY);
  v1::ListPodSandboxResponse resp;
  BERTH_TRY(cri_.Call(&v1::RuntimeService::Stub::ListPodSandbox, req, &resp,
                      "ListPodSandbox of " + ns + "/" + pod));
  const v1::PodSandbox* newest = nullptr;
  for (const v1::PodSandbox& s : resp.items()) {
    if (newest == nullptr || s.created_at() > newest->created_at()) newest = &s;
  }
  if (newest == nullptr)
    return Error(Errc::kNotFound, "pod not found (" + Quote(pod + "_" + ns) + ")");
  return newest->id();
}

Result<std::string> PodRuntime::LogContainer(const bj::object& pod, const std::string& container,
                                             bool previous) {
  std::string pod_name = Str(pod, {"metadata", "name"});
  const bj::object* status = nullptr;
  for (std::string_view list :
       {"containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"}) {
    status = Named(pod, {"status", list}, container);
    if (status != nullptr) break;
  }
  if (status == nullptr) return LogContainerFromRuntime(pod, container, previous);

  std::string who = "container " + Quote(container) + " in pod " + Quote(pod_name);
  const bj::object* running = Obj(*status, {"state", "running"});
  const bj::object* terminated = Obj(*status, {"state", "terminated"});
  const bj::object* waiting = Obj(*status, {"state", "waiting"});
  const bj::object* last = Obj(*status, {"lastState", "terminated"});
  std::string last_id = last != nullptr ? Str(*last, {"containerID"}) : "";
  std::string id;
  if (previous) {
    if (last_id.empty()) {
      return LogError("previous terminated container " + Quote(container) + " in pod " +
                      Quote(pod_name) + " not found");
    }
    id = last_id;
  } else if (running != nullptr) {
    id = Str(*status, {"containerID"});
  } else if (terminated != nullptr) {
    id = Str(*terminated, {"containerID"});
    // The next instance did not start: the last one that did.
    if (id.empty()) id = last_id;
    if (id.empty()) return LogError(who + " is terminated");
  } else if (last != nullptr) {
    if (last_id.empty()) return LogError(who + " is terminated");
    id = last_id;
  } else if (waiting != nullptr) {
    std::string reason = Str(*waiting, {"reason"});
    if (reason == "ErrImagePull")
      return LogError(who + " is waiting to start: image can't be pulled");
    if (reason == "ImagePullBackOff") {
      return LogError(who + " is waiting to start: trying and failing to pull image");
    }
    return LogError(who + " is waiting to start: " + reason);
  } else {
    return LogError(who + " is waiting to start - no logs yet");
  }
  if (id.empty()) return LogContainerFromRuntime(pod, container, previous);
  return StripRuntimeScheme(id);
}

Result<std::string> PodRuntime::LogContainerFromRuntime(const bj::object& pod,
                                                        const std::string& container,
                                                        bool previous) {
  std::string pod_name = Str(pod, {"metadata", "name"});
  std::vector<v1::Container> all =
      BERTH_TRY(Containers(Str(pod, {"metadata", "namespace"}), pod_name,
                           Str(pod, {"metadata", "uid"}), container, false));
  std::string who = "container " + Quote(container) + " in pod " + Quote(pod_name);
  if (all.empty()) return LogError(who + " is waiting to start - no logs yet");
  const v1::Container& newest = all.front();
  if (!previous) {
    // Created but not started yet: its log is empty, the last one's is not.
    if (newest.state() == v1::CONTAINER_CREATED && all.size() > 1) return all[1].id();
    return newest.id();
  }
  if (newest.state() == v1::CONTAINER_EXITED) {
    // Exited and about to be restarted, its status is waiting with this
    // instance as the last state: that is the previous one.
    v1::ContainerStatusRequest req;
    req.set_container_id(newest.id());
    v1::ContainerStatusResponse resp;
    BERTH_TRY(cri_.Call(&v1::RuntimeService::Stub::ContainerStatus, req, &resp,
                        "ContainerStatus " + newest.id()));
    if (WillRestart(pod, container, resp.status().exit_code())) return newest.id();
  }
  if (all.size() > 1) return all[1].id();
  return LogError("previous terminated container " + Quote(container) + " in pod " +
                  Quote(pod_name) + " not found");
}

Result<std::string> PodRuntime::LogPath(const std::string& container_id,
                                        const std::string& pod_logs_dir) {
  v1::ContainerStatusRequest req;
  req.set_container_id(container_id);
  v1::ContainerStatusResponse resp;
  Status s = cri_.Call(&v1::RuntimeService::Stub::ContainerStatus, req, &resp,
                       "ContainerStatus " + container_id);
  if (!s.ok()) {
    return Error(Errc::kInvalidArgument,
                 "unable to retrieve container logs for " + container_id + ": " + s.error().str());
  }
  const v1::ContainerStatus& st = resp.status();
  if (!st.log_path().empty()) return st.log_path();
  auto label = [&](const char* key) {
    auto it = st.labels().find(key);
    return it == st.labels().end() ? std::string() : it->second;
  };
  auto restarts = st.annotations().find(kRestartCountAnnotation);
  std::string pod_dir =
      label(kPodNamespaceLabel) + "_" + label(kPodNameLabel) + "_" + label(kPodUidLabel);
  return pod_logs_dir + "/" + pod_dir + "/" + label(kContainerNameLabel) + "/" +
         (restarts == st.annotations().end() ? "0" : restarts->second) + ".log";
}

bool PodRuntime::IsRunning(const std::string& container_id) {
  v1::ContainerStatusRequest req;
  req.set_container_id(container_id);
  v1::ContainerStatusResponse resp;
  Status s = cri_.Call(&v1::RuntimeService::Stub::ContainerStatus, req, &resp,
                       "ContainerStatus " + container_id, std::chrono::seconds(10));
  return s.ok() && resp.status().state() == v1::CONTAINER_RUNNING;
}

Result<bj::array> PodRuntime::RunningPods() {
  v1::ListPodSandboxRequest sreq;
  sreq.mutable_filter()->mutable_state()->set_state(v1::SANDBOX_READY);
  v1::ListPodSandboxResponse sandboxes;
  BERTH_TRY(
      cri_.Call(&v1::RuntimeService::Stub::ListPodSandbox, sreq, &sandboxes, "ListPodSandbox"));
  v1::ListContainersRequest creq;
  creq.mutable_filter()->mutable_state()->set_state(v1::CONTAINER_RUNNING);
  v1::ListContainersResponse containers;
  BERTH_TRY(
      cri_.Call(&v1::RuntimeService::Stub::ListContainers, creq, &containers, "ListContainers"));
  std::map<std::string, bj::array> by_sandbox;
  for (const v1::Container& c : containers.containers()) {
    by_sandbox[c.pod_sandbox_id()].push_back(bj::object{
        {"name", c.metadata().name()}, {"image", c.image().image()}, {"resources", bj::object()}});
  }
  bj::array pods;
  for (const v1::PodSandbox& s : sandboxes.items()) {
    pods.push_back(bj::object{{"metadata", bj::object{{"name", s.metadata().name()},
                                                      {"namespace", s.metadata().namespace_()},
                                                      {"uid", s.metadata().uid()},
                                                      {"creationTimestamp", nullptr}}},
                              {"spec", bj::object{{"containers", std::move(by_sandbox[s.id()])}}},
                              {"status", bj::object()}});
  }
  return pods;
}

}  // namespace berth::agent::kubelet
