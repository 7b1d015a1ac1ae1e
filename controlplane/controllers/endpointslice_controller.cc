#include "controlplane/controllers/endpointslice_controller.h"

#include <chrono>

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

// Upstream's endpointSliceChangeMinSyncDelay: changes to slices are
// batched for this long before their Service is synced.
constexpr std::chrono::seconds kSliceChangeDelay{1};
// Looks again at a Service whose slice cache is behind: after 10 ms,
// doubling, six times (630 ms in all).
constexpr std::chrono::milliseconds kFirstStaleRetry{10};
constexpr int kFastStaleRetries = 6;

bool ManagedByController(const bj::object& slice) {
  return StringAt(slice, {"metadata", "labels", kLabelManagedBy}) == kEndpointSliceControllerName;
}

std::string ManagedSliceServiceKey(const bj::object& slice) {
  return ManagedByController(slice) ? SliceServiceKey(slice) : "";
}

std::string SlicesUrl(const std::string& ns) {
  return "/apis/discovery.k8s.io/v1/namespaces/" + ns + "/endpointslices";
}

void SetTriggerTime(bj::object& slice, const std::string& trigger_time) {
  bj::value& meta = slice["metadata"];
  if (!meta.is_object()) meta = bj::object();
  bj::value& annotations = meta.as_object()["annotations"];
  if (!annotations.is_object()) annotations = bj::object();
  if (trigger_time.empty()) {
    annotations.as_object().erase(kAnnotationTriggerTime);
  } else {
    annotations.as_object()[kAnnotationTriggerTime] = trigger_time;
  }
}

// The slice names a Service of this name as its controlling owner.
bool OwnedByServiceNamed(const bj::object& slice, const std::string& name) {
  const bj::value* meta = slice.if_contains("metadata");
  if (meta == nullptr || !meta->is_object()) return false;
  const bj::value* owners = meta->as_object().if_contains("ownerReferences");
  if (owners == nullptr || !owners->is_array()) return false;
  for (const bj::value& o : owners->as_array()) {
    if (o.is_object() && StringAt(o.as_object(), {"kind"}) == "Service" &&
        StringAt(o.as_object(), {"apiVersion"}) == "v1" &&
        StringAt(o.as_object(), {"name"}) == name) {
      return true;
    }
  }
  return false;
}

}  // namespace

EndpointSliceController::EndpointSliceController(client::ClientConfig config,
                                                 SharedInformers& informers, int workers,
                                                 size_t max_endpoints_per_slice)
    // Upstream's backoff for this controller starts at 1 s, not 5 ms: a
    // sync can rewrite many slices.
    : Controller("endpointslice", config, workers,
                 RateLimit{std::chrono::seconds(1), std::chrono::seconds(60)}),
      max_endpoints_per_slice_(max_endpoints_per_slice),
      events_(std::move(config), "endpoint-slice-controller"),
      slices_by_service_(ManagedSliceServiceKey),
      service_pods_(informers, [this](const std::string& key) { queue().Add(key); }),
      nodes_(informers.Register("/api/v1/nodes", {})),
      slices_(informers.Register("/apis/discovery.k8s.io/v1/endpointslices", SliceHandlers())) {}

EndpointSliceController::~EndpointSliceController() {
  Stop();
}

void EndpointSliceController::QueueForSlice(const bj::object& slice) {
  std::string key = SliceServiceKey(slice);
  if (!key.empty()) queue().AddAfter(key, kSliceChangeDelay);
}

client::InformerHandlers EndpointSliceController::SliceHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& slice) {
    slices_by_service_.Add(slice);
    if (ManagedByController(slice) && tracker_.ShouldSync(slice)) QueueForSlice(slice);
  };
  h.updated = [this](const bj::object& old, const bj::object& slice) {
    slices_by_service_.Update(old, slice);
    if (SliceServiceKey(old) != SliceServiceKey(slice)) {
      QueueForSlice(slice);
      QueueForSlice(old);
      return;
    }
    if (ManagedByController(old) != ManagedByController(slice) ||
        (ManagedByController(slice) && tracker_.ShouldSync(slice))) {
      QueueForSlice(slice);
    }
  };
  h.deleted = [this](const bj::object& slice) {
    slices_by_service_.Delete(slice);
    // A deletion the controller did not make: put the slice back.
    if (ManagedByController(slice) && tracker_.Has(slice) && !tracker_.HandleDeletion(slice)) {
      QueueForSlice(slice);
    }
  };
  return h;
}

std::vector<bj::object> EndpointSliceController::ManagedSlices(
    const std::string& service_key) const {
  std::vector<bj::object> slices;
  for (const std::string& key : slices_by_service_.Keys(service_key)) {
    std::optional<bj::object> slice = slices_.Get(key);
    if (slice && ManagedSliceServiceKey(*slice) == service_key && !BeingDeleted(*slice)) {
      slices.push_back(std::move(*slice));
    }
  }
  return slices;
}

Status EndpointSliceController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> service = service_pods_.Service(key);
  if (!service) {
    trigger_times_.DeleteService(key);
    BERTH_TRY(DeleteSlicesOfDeletedService(api, key));
    tracker_.DeleteService(key);
    return Ok();
  }
  if (StringAt(*service, {"spec", "type"}) == "ExternalName") return Ok();
  if (!ServiceSelector(*service)) return Ok();  // its slices are its user's

  std::vector<bj::object> pods = service_pods_.SelectedPods(*service);
  std::vector<bj::object> slices = ManagedSlices(key);
  if (tracker_.StaleSlices(*service, slices)) return RetryStale(key);
  ForgetStale(key);
  // Computed before anything else can fail, so that the tracker sees
  // every sync (as upstream's).
  std::string trigger_time = trigger_times_.Compute(*service, pods);
  EndpointSlicePlan plan = PlanEndpointSlices(
      *service, pods, slices, [this](const std::string& name) { return nodes_.Get(name); },
      max_endpoints_per_slice_);
  Status applied = Apply(api, *service, plan, trigger_time);

  std::vector<std::string> errors = plan.errors;
  if (!applied.ok()) errors.push_back(applied.error().str());
  if (errors.empty()) return Ok();
  std::string message;
  for (const std::string& e : errors)
    message += (message.empty() ? "" : ", ") + e;
  if (errors.size() > 1) message = "[" + message + "]";
  client::ObjectRef ref{"v1", "Service", StringAt(*service, {"metadata", "namespace"}),
                        StringAt(*service, {"metadata", "name"}),
                        StringAt(*service, {"metadata", "uid"})};
  events_.Record(ref, "Warning", "FailedToUpdateEndpointSlices",
                 "Error updating Endpoint Slices for Service " + key + ": " + message);
  return Error(applied.ok() ? Errc::kFailedPrecondition : applied.error().code(), message);
}

Status EndpointSliceController::Apply(client::ApiClient& api, const bj::object& service,
                                      EndpointSlicePlan& plan, const std::string& trigger_time) {
  const std::string ns = StringAt(service, {"metadata", "namespace"});
  const std::string key = ns + "/" + StringAt(service, {"metadata", "name"});
  const std::string collection = SlicesUrl(ns);
  // Slices made while the Service is being deleted would race its
  // garbage collection.
  if (!BeingDeleted(service)) {
    for (bj::object& slice : plan.create) {
      SetTriggerTime(slice, trigger_time);
      client::ApiResponse r = BERTH_TRY(api.Do("POST", collection, bj::serialize(slice)));
      if (r.status == 403 && HasStatusCause(r, "NamespaceTerminating")) return Ok();
      if (r.status != 201) {
        return HttpError("POST", collection, r)
            .Wrap("failed to create EndpointSlice for Service " + key);
      }
      bj::value created = r.Json();
      if (created.is_object()) tracker_.Update(created.as_object());
    }
  }
  for (bj::object& slice : plan.update) {
    slice["apiVersion"] = "discovery.k8s.io/v1";
    slice["kind"] = "EndpointSlice";
    SetTriggerTime(slice, trigger_time);
    const std::string name = StringAt(slice, {"metadata", "name"});
    const std::string url = collection + "/" + name;
    client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(slice)));
    if (r.status != 200) {
      return HttpError("PUT", url, r)
          .Wrap("failed to update " + name + " EndpointSlice for Service " + key);
    }
    bj::value updated = r.Json();
    if (updated.is_object()) tracker_.Update(updated.as_object());
  }
  for (const bj::object& slice : plan.remove) {
    const std::string name = StringAt(slice, {"metadata", "name"});
    const std::string url = collection + "/" + name;
    client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url));
    if (r.status == 404) continue;
    if (r.status != 200 && r.status != 202) {
      return HttpError("DELETE", url, r)
          .Wrap("failed to delete " + name + " EndpointSlice for Service " + key);
    }
    tracker_.ExpectDeletion(slice);
  }
  return Ok();
}

// Upstream returns an error and waits out its backoff (1 s, doubling).
// The cache is normally behind by one watch event already on its way, so
// the first few looks come within milliseconds; a cache that stays
// behind is an error, retried with the backoff.
Status EndpointSliceController::RetryStale(const std::string& key) {
  int n = 0;
  {
    std::lock_guard lock(mu_);
    n = ++stale_retries_[key];
  }
  if (n > kFastStaleRetries) {
    return Error(Errc::kAborted, "EndpointSlice informer cache is out of date");
  }
  queue().AddAfter(key, kFirstStaleRetry * (1 << (n - 1)));
  return Ok();
}

void EndpointSliceController::ForgetStale(const std::string& key) {
  std::lock_guard lock(mu_);
  stale_retries_.erase(key);
}

// Upstream leaves a deleted Service's slices to the garbage collector
// (the Service owns them); berth's manager may run without its
// garbagecollector controller (ControllerManagerOptions::controllers), so
// the slices owned by a Service of that name are deleted here as well. The uid precondition
// spares a slice made again meanwhile; the GC deleting one first is a 404.
Status EndpointSliceController::DeleteSlicesOfDeletedService(client::ApiClient& api,
                                                             const std::string& key) {
  std::vector<bj::object> slices = ManagedSlices(key);
  size_t slash = key.find('/');
  const std::string ns = key.substr(0, slash);
  const std::string name = key.substr(slash + 1);
  bj::object gone{{"metadata", bj::object{{"namespace", ns}, {"name", name}}}};
  // Slices this controller just made may not be cached yet: wait for them.
  if (tracker_.StaleSlices(gone, slices)) return RetryStale(key);
  ForgetStale(key);
  for (const bj::object& slice : slices) {
    if (!OwnedByServiceNamed(slice, name)) continue;
    const std::string url = SlicesUrl(ns) + "/" + StringAt(slice, {"metadata", "name"});
    bj::object options{
        {"apiVersion", "v1"},
        {"kind", "DeleteOptions"},
        {"preconditions", bj::object{{"uid", StringAt(slice, {"metadata", "uid"})}}}};
    client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url, bj::serialize(options)));
    if (r.status != 200 && r.status != 202 && r.status != 404 && r.status != 409) {
      return HttpError("DELETE", url, r);
    }
  }
  return Ok();
}

}  // namespace berth::controlplane::controllers
