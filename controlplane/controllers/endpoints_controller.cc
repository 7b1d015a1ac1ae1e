#include "controlplane/controllers/endpoints_controller.h"

#include <utility>
#include <vector>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/endpoints_subsets.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kLabelHeadless[] = "service.kubernetes.io/headless";
constexpr char kAnnotationTriggerTime[] = "endpoints.kubernetes.io/last-change-trigger-time";
// Endpoints used as a leader election lock: never a Service's.
constexpr char kAnnotationLeader[] = "control-plane.alpha.kubernetes.io/leader";
// The key of the one-off look at every Endpoints object.
constexpr char kEveryEndpoints[] = "";

const bj::object& ObjectIn(const bj::object& obj, const char* a, const char* b) {
  static const bj::object kNone;
  const bj::value* v = obj.if_contains(a);
  if (v == nullptr || !v->is_object()) return kNone;
  v = v->as_object().if_contains(b);
  return v != nullptr && v->is_object() ? v->as_object() : kNone;
}

bj::array SubsetsOf(const bj::object& endpoints) {
  const bj::value* v = endpoints.if_contains("subsets");
  return v != nullptr && v->is_array() ? v->as_array() : bj::array();
}

// No address too many, and the over-capacity annotation only when cut.
bool CapacityAnnotationRight(const bj::object& endpoints) {
  if (CountAddresses(SubsetsOf(endpoints)) > kMaxEndpointsAddresses) return false;
  return !ObjectIn(endpoints, "metadata", "annotations").contains(kAnnotationOverCapacity);
}

bj::object& Child(bj::object& obj, const char* key) {
  bj::value& v = obj[key];
  if (!v.is_object()) v = bj::object();
  return v.as_object();
}

}  // namespace

EndpointsController::EndpointsController(client::ClientConfig config, SharedInformers& informers,
                                         int workers)
    : Controller("endpoint", config, workers),
      events_(std::move(config), "endpoint-controller"),
      service_pods_(informers, [this](const std::string& key) { queue().Add(key); }),
      endpoints_(informers.Register("/api/v1/endpoints", EndpointsHandlers())) {
  // Workers start once the caches listed: the look then sees them all.
  queue().Add(kEveryEndpoints);
}

EndpointsController::~EndpointsController() {
  Stop();
}

client::InformerHandlers EndpointsController::EndpointsHandlers() {
  client::InformerHandlers h;
  // Made again if its Service still wants it.
  h.deleted = [this](const bj::object& ep) { queue().Add(client::ObjectKey(ep)); };
  return h;
}

void EndpointsController::QueueEveryEndpoints() {
  for (const auto& [key, ep] : endpoints_.Snapshot()) {
    if (!ObjectIn(ep, "metadata", "annotations").contains(kAnnotationLeader)) queue().Add(key);
  }
}

bool EndpointsController::Stale(const std::string& key, const bj::object& cached) {
  std::lock_guard lock(mu_);
  auto it = replaced_.find(key);
  return it != replaced_.end() && it->second == StringAt(cached, {"metadata", "resourceVersion"});
}

void EndpointsController::Forget(const std::string& key) {
  trigger_times_.DeleteService(key);
  std::lock_guard lock(mu_);
  replaced_.erase(key);
}

Status EndpointsController::Sync(client::ApiClient& api, const std::string& key) {
  if (key == kEveryEndpoints) {
    QueueEveryEndpoints();
    return Ok();
  }
  if (std::optional<bj::object> service = service_pods_.Service(key)) {
    return SyncService(api, key, *service);
  }
  // The Service is gone: so are its Endpoints (which no owner reference
  // ties to it).
  size_t slash = key.find('/');
  const std::string url =
      "/api/v1/namespaces/" + key.substr(0, slash) + "/endpoints/" + key.substr(slash + 1);
  client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url));
  if (r.status != 200 && r.status != 202 && r.status != 404) return HttpError("DELETE", url, r);
  Forget(key);
  return Ok();
}

Status EndpointsController::SyncService(client::ApiClient& api, const std::string& key,
                                        const bj::object& service) {
  if (StringAt(service, {"spec", "type"}) == "ExternalName") return Ok();
  if (!ServiceSelector(service)) return Ok();  // its Endpoints are its user's

  std::vector<bj::object> pods = service_pods_.SelectedPods(service);
  // Computed on every sync, so that the tracker sees them all.
  std::string trigger_time = trigger_times_.Compute(service, pods);
  bj::array subsets = EndpointSubsets(service, pods);

  std::optional<bj::object> current = endpoints_.Get(key);
  if (current && Stale(key, *current)) {
    return Error(Errc::kAborted, "endpoints informer cache is out of date for " + key);
  }
  const bj::object& service_labels = ObjectIn(service, "metadata", "labels");
  if (current) {
    bj::object labels = ObjectIn(*current, "metadata", "labels");
    labels.erase(kLabelHeadless);
    if (SubsetsOf(*current) == subsets && labels == service_labels &&
        CapacityAnnotationRight(*current)) {
      return Ok();
    }
  }

  const std::string ns = StringAt(service, {"metadata", "namespace"});
  const std::string name = StringAt(service, {"metadata", "name"});
  bj::object ep = current ? *current : bj::object{{"metadata", bj::object{{"name", name}}}};
  ep["apiVersion"] = "v1";
  ep["kind"] = "Endpoints";
  bj::object& meta = Child(ep, "metadata");
  bj::object labels = service_labels;
  if (IsServiceIpSet(service)) {
    labels.erase(kLabelHeadless);
  } else {
    labels[kLabelHeadless] = "";
  }
  meta["labels"] = std::move(labels);
  bj::object& annotations = Child(meta, "annotations");
  if (trigger_time.empty()) {
    annotations.erase(kAnnotationTriggerTime);
  } else {
    annotations[kAnnotationTriggerTime] = trigger_time;
  }
  if (TruncateSubsets(subsets)) {
    annotations[kAnnotationOverCapacity] = "truncated";
  } else {
    annotations.erase(kAnnotationOverCapacity);
  }
  if (subsets.empty()) {
    ep.erase("subsets");
  } else {
    ep["subsets"] = std::move(subsets);
  }

  const std::string collection = "/api/v1/namespaces/" + ns + "/endpoints";
  const std::string method = current ? "PUT" : "POST";
  const std::string url = current ? collection + "/" + name : collection;
  client::ApiResponse r = BERTH_TRY(api.Do(method, url, bj::serialize(ep)));
  if (r.status == 200 || r.status == 201) {
    bj::value written = r.Json();
    std::string rv =
        written.is_object() ? StringAt(written.as_object(), {"metadata", "resourceVersion"}) : "";
    if (current) {
      std::string old = StringAt(*current, {"metadata", "resourceVersion"});
      std::lock_guard lock(mu_);
      if (rv != old) replaced_[key] = old;
    }
    return Ok();
  }
  // Made meanwhile, and not cached yet: look again, no event for that.
  if (!current && r.status == 409) return HttpError(method, url, r);
  // A terminating namespace refuses new objects for good: nothing to do.
  if (!current && r.status == 403 && HasStatusCause(r, "NamespaceTerminating")) return Ok();
  Error failed = HttpError(method, url, r);
  client::ObjectRef ref{"v1", "Endpoints", ns, name, StringAt(ep, {"metadata", "uid"})};
  if (current) {
    events_.Record(ref, "Warning", "FailedToUpdateEndpoint",
                   "Failed to update endpoint " + key + ": " + failed.str());
  } else {
    events_.Record(ref, "Warning", "FailedToCreateEndpoint",
                   "Failed to create endpoint for service " + key + ": " + failed.str());
  }
  return failed;
}

}  // namespace berth::controlplane::controllers
