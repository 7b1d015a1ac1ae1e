#include "controlplane/controllers/service_pods.h"

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_readiness.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string NamespaceOf(const bj::object& obj) {
  return StringAt(obj, {"metadata", "namespace"});
}

const bj::object& Labels(const bj::object& obj) {
  static const bj::object kNone;
  const bj::value* meta = obj.if_contains("metadata");
  if (meta == nullptr || !meta->is_object()) return kNone;
  const bj::value* labels = meta->as_object().if_contains("labels");
  return labels != nullptr && labels->is_object() ? labels->as_object() : kNone;
}

bool Matches(const bj::object& selector, const bj::object& labels) {
  for (const auto& [key, value] : selector) {
    const bj::value* have = labels.if_contains(key);
    if (have == nullptr || *have != value) return false;
  }
  return true;
}

}  // namespace

std::optional<bj::object> ServiceSelector(const bj::object& service) {
  const bj::value* spec = service.if_contains("spec");
  if (spec == nullptr || !spec->is_object()) return std::nullopt;
  const bj::value* selector = spec->as_object().if_contains("selector");
  if (selector == nullptr || !selector->is_object() || selector->as_object().empty()) {
    return std::nullopt;
  }
  return selector->as_object();
}

bool IsServiceIpSet(const bj::object& service) {
  std::string ip = StringAt(service, {"spec", "clusterIP"});
  return !ip.empty() && ip != "None";
}

bool ShouldSetHostname(const bj::object& pod, const bj::object& service) {
  return !StringAt(pod, {"spec", "hostname"}).empty() &&
         StringAt(pod, {"spec", "subdomain"}) == StringAt(service, {"metadata", "name"}) &&
         NamespaceOf(pod) == NamespaceOf(service);
}

PodChange PodEndpointsChanged(const bj::object& old, const bj::object& now) {
  PodChange change;
  change.membership = Labels(old) != Labels(now) ||
                      StringAt(old, {"spec", "hostname"}) != StringAt(now, {"spec", "hostname"}) ||
                      StringAt(old, {"spec", "subdomain"}) != StringAt(now, {"spec", "subdomain"});
  // Upstream looks at deletion, readiness and addresses; a terminal phase
  // (which drops the pod from endpoints) is looked at too, in case a pod
  // ends without its Ready condition changing.
  change.endpoints = StringAt(old, {"metadata", "deletionTimestamp"}) !=
                         StringAt(now, {"metadata", "deletionTimestamp"}) ||
                     IsPodReady(old) != IsPodReady(now) || PodIps(old) != PodIps(now) ||
                     IsPodTerminal(old) != IsPodTerminal(now);
  return change;
}

ServicePods::ServicePods(SharedInformers& informers, std::function<void(const std::string&)> queue)
    : queue_(std::move(queue)),
      services_by_namespace_(NamespaceOf),
      pods_by_namespace_(NamespaceOf),
      services_(informers.Register("/api/v1/services", ServiceHandlers())),
      pods_(informers.Register("/api/v1/pods", PodHandlers())) {}

client::InformerHandlers ServicePods::ServiceHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& svc) {
    services_by_namespace_.Add(svc);
    queue_(client::ObjectKey(svc));
  };
  h.updated = [this](const bj::object& old, const bj::object& svc) {
    services_by_namespace_.Update(old, svc);
    queue_(client::ObjectKey(svc));
  };
  h.deleted = [this](const bj::object& svc) {
    services_by_namespace_.Delete(svc);
    queue_(client::ObjectKey(svc));
  };
  return h;
}

client::InformerHandlers ServicePods::PodHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& pod) {
    pods_by_namespace_.Add(pod);
    for (const std::string& key : ServicesSelecting(pod))
      queue_(key);
  };
  h.updated = [this](const bj::object& old, const bj::object& pod) {
    pods_by_namespace_.Update(old, pod);
    PodChange change = PodEndpointsChanged(old, pod);
    if (!change.endpoints && !change.membership) return;
    std::set<std::string> keys = ServicesSelecting(pod);
    if (change.membership) {
      std::set<std::string> before = ServicesSelecting(old);
      if (change.endpoints) {
        keys.insert(before.begin(), before.end());
      } else {
        // Only the labels changed: the Services it joined or left.
        std::set<std::string> both;
        for (const std::string& k : before) {
          if (keys.contains(k)) both.insert(k);
        }
        keys.insert(before.begin(), before.end());
        for (const std::string& k : both)
          keys.erase(k);
      }
    }
    for (const std::string& key : keys)
      queue_(key);
  };
  h.deleted = [this](const bj::object& pod) {
    pods_by_namespace_.Delete(pod);
    for (const std::string& key : ServicesSelecting(pod))
      queue_(key);
  };
  return h;
}

std::set<std::string> ServicePods::ServicesSelecting(const bj::object& pod) const {
  std::set<std::string> keys;
  for (const std::string& key : services_by_namespace_.Keys(NamespaceOf(pod))) {
    std::optional<bj::object> svc = services_.Get(key);
    if (!svc) continue;
    std::optional<bj::object> selector = ServiceSelector(*svc);
    if (selector && Matches(*selector, Labels(pod))) keys.insert(key);
  }
  return keys;
}

std::vector<bj::object> ServicePods::SelectedPods(const bj::object& service) const {
  std::vector<bj::object> pods;
  std::optional<bj::object> selector = ServiceSelector(service);
  if (!selector) return pods;
  for (const std::string& key : pods_by_namespace_.Keys(NamespaceOf(service))) {
    std::optional<bj::object> pod = pods_.Get(key);
    if (pod && Matches(*selector, Labels(*pod))) pods.push_back(std::move(*pod));
  }
  return pods;
}

}  // namespace berth::controlplane::controllers
