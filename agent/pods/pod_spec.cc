#include "agent/pods/pod_spec.h"

#include "common/quantity.h"
#include "controlplane/client/api_util.h"

namespace berth::agent {

using controlplane::client::StringAt;
using controlplane::client::ValueAt;

namespace {

const bj::array& ArrayAt(const bj::object& obj, std::initializer_list<std::string_view> path) {
  static const bj::array kEmpty;
  const bj::value* v = ValueAt(obj, path);
  return v != nullptr && v->is_array() ? v->get_array() : kEmpty;
}

}  // namespace

PodId IdOf(const bj::object& pod) {
  return {StringAt(pod, {"metadata", "namespace"}), StringAt(pod, {"metadata", "name"}),
          StringAt(pod, {"metadata", "uid"})};
}

const bj::array& Containers(const bj::object& pod) {
  return ArrayAt(pod, {"spec", "containers"});
}

const bj::array& InitContainers(const bj::object& pod) {
  return ArrayAt(pod, {"spec", "initContainers"});
}

const bj::object* FindContainer(const bj::object& pod, const std::string& name) {
  for (const bj::array* list : {&Containers(pod), &InitContainers(pod)}) {
    for (const bj::value& c : *list) {
      if (c.is_object() && StringAt(c.get_object(), {"name"}) == name) return &c.get_object();
    }
  }
  return nullptr;
}

bool IsSidecar(const bj::object& init_container) {
  return StringAt(init_container, {"restartPolicy"}) == "Always";
}

std::string RestartPolicy(const bj::object& pod) {
  std::string p = StringAt(pod, {"spec", "restartPolicy"});
  return p.empty() ? "Always" : p;
}

std::optional<int64_t> ResourceQuantity(const bj::object& container, std::string_view kind,
                                        std::string_view resource) {
  const bj::value* v = ValueAt(container, {"resources", kind, resource});
  if (v == nullptr || !v->is_string()) return std::nullopt;
  Result<int64_t> q = ParseQuantity(v->get_string(), resource == "cpu");
  if (!q.ok()) return std::nullopt;
  return *q;
}

// Upstream's GetPodQOS: Guaranteed when every container (init ones too)
// has cpu and memory limits equal to their requests; BestEffort when none
// has any request or limit for cpu or memory; Burstable otherwise.
std::string QosClass(const bj::object& pod) {
  bool any = false;
  bool guaranteed = true;
  for (const bj::array* list : {&Containers(pod), &InitContainers(pod)}) {
    for (const bj::value& cv : *list) {
      if (!cv.is_object()) continue;
      const bj::object& c = cv.get_object();
      for (std::string_view r : {"cpu", "memory"}) {
        std::optional<int64_t> req = ResourceQuantity(c, "requests", r);
        std::optional<int64_t> lim = ResourceQuantity(c, "limits", r);
        if (lim && *lim == 0) lim.reset();  // only a limit above zero counts
        if ((req && *req != 0) || lim) any = true;
        // A request defaults to the limit when only the limit is set.
        if (!lim || (req && *req != *lim)) guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

bool HostNetwork(const bj::object& pod) {
  const bj::value* v = ValueAt(pod, {"spec", "hostNetwork"});
  return v != nullptr && v->is_bool() && v->get_bool();
}

bool BeingDeleted(const bj::object& pod) {
  return !StringAt(pod, {"metadata", "deletionTimestamp"}).empty();
}

int64_t GracePeriodSeconds(const bj::object& pod) {
  for (auto path :
       {std::initializer_list<std::string_view>{"metadata", "deletionGracePeriodSeconds"},
        std::initializer_list<std::string_view>{"spec", "terminationGracePeriodSeconds"}}) {
    const bj::value* v = ValueAt(pod, path);
    if (v != nullptr && v->is_int64()) return std::max<int64_t>(v->get_int64(), 0);
  }
  return 30;
}

std::string Phase(const bj::object& pod) {
  return StringAt(pod, {"status", "phase"});
}

bool IsTerminalPhase(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed";
}

controlplane::client::ObjectRef PodRef(const bj::object& pod) {
  PodId id = IdOf(pod);
  return {"v1", "Pod", id.namespace_, id.name, id.uid};
}

controlplane::client::ObjectRef ContainerRef(const bj::object& pod, const std::string& container) {
  controlplane::client::ObjectRef ref = PodRef(pod);
  bool init = false;
  for (const bj::value& c : InitContainers(pod)) {
    if (c.is_object() && StringAt(c.get_object(), {"name"}) == container) init = true;
  }
  ref.field_path = (init ? "spec.initContainers{" : "spec.containers{") + container + "}";
  return ref;
}

}  // namespace berth::agent
