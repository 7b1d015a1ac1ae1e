#include "controlplane/controllers/replicaset_controller.h"

#include <chrono>

#include "common/log.h"
#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/replicaset_status.h"
#include "controlplane/server/api/selectors.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string Namespace(const bj::object& obj) {
  return StringAt(obj, {"metadata", "namespace"});
}
std::string Name(const bj::object& obj) {
  return StringAt(obj, {"metadata", "name"});
}

std::string ReplicaSetUrl(const std::string& ns, const std::string& name) {
  return "/apis/apps/v1/namespaces/" + ns + "/replicasets/" + name;
}

std::string PodUrl(const bj::object& pod) {
  return "/api/v1/namespaces/" + Namespace(pod) + "/pods/" + Name(pod);
}

const bj::object* Labels(const bj::object& obj) {
  const bj::value* meta = obj.if_contains("metadata");
  const bj::value* labels =
      meta != nullptr && meta->is_object() ? meta->as_object().if_contains("labels") : nullptr;
  return labels != nullptr ? labels->if_object() : nullptr;
}

std::optional<api::LabelSelector> SelectorOf(const bj::object& obj) {
  const bj::value* spec = obj.if_contains("spec");
  const bj::value* sel =
      spec != nullptr && spec->is_object() ? spec->as_object().if_contains("selector") : nullptr;
  if (sel == nullptr) return std::nullopt;
  Result<api::LabelSelector> parsed = api::LabelSelector::FromJson(*sel, "spec.selector");
  if (!parsed.ok()) return std::nullopt;
  return std::move(*parsed);
}

}  // namespace

ReplicaSetController::ReplicaSetController(const client::ClientConfig& config,
                                           SharedInformers& informers, int workers)
    : Controller("replicaset", config, workers),
      recorder_(config, "replicaset-controller"),
      replica_sets_(informers.Register("/apis/apps/v1/replicasets", ReplicaSetHandlers())),
      pods_(informers.Register("/api/v1/pods", PodHandlers())) {}

ReplicaSetController::~ReplicaSetController() {
  Stop();
}

client::InformerHandlers ReplicaSetController::ReplicaSetHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& rs) {
    rs_index_.Add(rs);
    queue().Add(client::ObjectKey(rs));
  };
  h.updated = [this](const bj::object&, const bj::object& rs) {
    rs_index_.Add(rs);
    queue().Add(client::ObjectKey(rs));
  };
  h.deleted = [this](const bj::object& rs) {
    rs_index_.Remove(rs);
    std::string key = client::ObjectKey(rs);
    expectations_.Delete(key);
    queue().Add(key);
  };
  return h;
}

client::InformerHandlers ReplicaSetController::PodHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& pod) {
    pod_index_.Add(pod);
    OnPodAdded(pod);
  };
  h.updated = [this](const bj::object& old, const bj::object& pod) {
    pod_index_.Add(pod);
    OnPodUpdated(old, pod);
  };
  h.deleted = [this](const bj::object& pod) {
    pod_index_.Remove(pod);
    OnPodDeleted(pod);
  };
  return h;
}

std::optional<bj::object> ReplicaSetController::Resolve(const std::string& ns,
                                                        const OwnerRef& ref) const {
  if (ref.kind != "ReplicaSet") return std::nullopt;
  std::optional<bj::object> rs = replica_sets_.Get(ns + "/" + ref.name);
  if (!rs || StringAt(*rs, {"metadata", "uid"}) != ref.uid) return std::nullopt;
  return rs;
}

std::vector<std::string> ReplicaSetController::ReplicaSetsSelecting(const bj::object& pod) const {
  std::vector<std::string> keys;
  for (const bj::object& rs : rs_index_.List(replica_sets_, Namespace(pod))) {
    std::optional<api::LabelSelector> selector = SelectorOf(rs);
    // An empty selector selects nothing here, as upstream's getPodReplicaSets.
    if (!selector || selector->empty() || !selector->Matches(Labels(pod))) continue;
    keys.push_back(client::ObjectKey(rs));
  }
  return keys;
}

void ReplicaSetController::OnPodAdded(const bj::object& pod) {
  if (BeingDeleted(pod)) {
    // Seen for the first time already being deleted (e.g. after a restart):
    // a creation that will not be followed by an add for us.
    OnPodDeleted(pod);
    return;
  }
  if (std::optional<OwnerRef> ref = ControllerOf(pod)) {
    std::optional<bj::object> rs = Resolve(Namespace(pod), *ref);
    if (!rs) return;
    std::string key = client::ObjectKey(*rs);
    expectations_.CreationObserved(key);
    queue().Add(key);
    return;
  }
  for (const std::string& key : ReplicaSetsSelecting(pod))
    queue().Add(key);
}

void ReplicaSetController::OnPodUpdated(const bj::object& old, const bj::object& pod) {
  if (StringAt(old, {"metadata", "resourceVersion"}) ==
      StringAt(pod, {"metadata", "resourceVersion"})) {
    return;
  }
  const bj::object* old_labels = Labels(old);
  const bj::object* new_labels = Labels(pod);
  bool labels_changed = (old_labels == nullptr) != (new_labels == nullptr) ||
                        (old_labels != nullptr && *old_labels != *new_labels);
  if (BeingDeleted(pod)) {
    // Graceful deletion: replace the pod now rather than when it is gone.
    OnPodDeleted(pod);
    if (labels_changed) OnPodDeleted(old);
    return;
  }
  std::optional<OwnerRef> now_ref = ControllerOf(pod);
  std::optional<OwnerRef> old_ref = ControllerOf(old);
  bool ref_changed = now_ref.has_value() != old_ref.has_value() ||
                     (now_ref && (now_ref->uid != old_ref->uid || now_ref->name != old_ref->name));
  if (ref_changed && old_ref) {
    if (std::optional<bj::object> rs = Resolve(Namespace(old), *old_ref)) {
      queue().Add(client::ObjectKey(*rs));
    }
  }
  if (now_ref) {
    std::optional<bj::object> rs = Resolve(Namespace(pod), *now_ref);
    if (!rs) return;
    std::string key = client::ObjectKey(*rs);
    queue().Add(key);
    int64_t min_ready = MinReadySeconds(*rs);
    if (min_ready > 0 && !IsPodReady(old) && IsPodReady(pod)) {
      // It becomes available minReadySeconds from now (a second more
      // for clock granularity).
      queue().AddAfter(key, std::chrono::seconds(min_ready + 1));
    }
    return;
  }
  if (labels_changed || ref_changed) {
    for (const std::string& key : ReplicaSetsSelecting(pod))
      queue().Add(key);
  }
}

void ReplicaSetController::OnPodDeleted(const bj::object& pod) {
  std::optional<OwnerRef> ref = ControllerOf(pod);
  if (!ref) return;
  std::optional<bj::object> rs = Resolve(Namespace(pod), *ref);
  if (!rs) return;
  std::string key = client::ObjectKey(*rs);
  expectations_.DeletionObserved(key, client::ObjectKey(pod));
  queue().Add(key);
}

Status ReplicaSetController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> rs = replica_sets_.Get(key);
  if (!rs) {
    expectations_.Delete(key);
    return Ok();
  }
  bool needs_sync = expectations_.Satisfied(key);
  std::optional<api::LabelSelector> selector = SelectorOf(*rs);
  if (!selector) {
    // The apiserver validates selectors: nothing a retry would mend.
    BLOG(kWarn) << "replicaset controller: " << key << ": invalid selector";
    return Ok();
  }
  std::vector<bj::object> active;
  for (bj::object& pod : pod_index_.List(pods_, Namespace(*rs)))
    if (IsPodActive(pod)) active.push_back(std::move(pod));
  RefManager refs(api, *rs, "apps/v1", "ReplicaSet", ReplicaSetUrl(Namespace(*rs), Name(*rs)),
                  *selector, PodUrl);
  std::vector<bj::object> claimed = BERTH_TRY(refs.Claim(active));

  Status managed = Ok();
  if (needs_sync && !BeingDeleted(*rs)) managed = ManageReplicas(api, claimed, *rs, key);
  std::optional<std::string> manage_error;
  if (!managed.ok()) manage_error = managed.error().message();
  bj::object status = CalculateReplicaSetStatus(*rs, claimed, manage_error, WallClockNow().tv_sec);
  bj::object updated = BERTH_TRY(UpdateStatus(api, *rs, status));
  int64_t min_ready = MinReadySeconds(updated);
  int64_t replicas = SpecReplicas(updated);
  if (managed.ok() && min_ready > 0 && StatusCount(updated, "readyReplicas") == replicas &&
      StatusCount(updated, "availableReplicas") != replicas) {
    queue().AddAfter(key, std::chrono::seconds(min_ready));
  }
  return managed;
}

Result<bj::object> ReplicaSetController::UpdateStatus(client::ApiClient& api, const bj::object& rs,
                                                      const bj::object& status) {
  if (!ReplicaSetStatusChanged(rs, status)) return rs;
  bj::object current = rs;
  for (int attempt = 0;; ++attempt) {
    current["status"] = WithObservedGeneration(current, status);
    const std::string url = ReplicaSetUrl(Namespace(current), Name(current)) + "/status";
    client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(current)));
    if (r.status == 200) {
      bj::value stored = r.Json();
      if (stored.is_object()) return std::move(stored.as_object());
      return current;
    }
    if (r.status != 409 || attempt >= 1) return HttpError("PUT", url, r);
    // The cache was behind: once more on the stored copy, as upstream.
    const std::string get_url = ReplicaSetUrl(Namespace(current), Name(current));
    client::ApiResponse got = BERTH_TRY(api.Do("GET", get_url));
    if (got.status != 200) return HttpError("GET", get_url, got);
    bj::value fresh = got.Json();
    if (!fresh.is_object()) return Error(Errc::kDataLoss, "GET " + get_url + ": not an object");
    current = std::move(fresh.as_object());
  }
}

}  // namespace berth::controlplane::controllers
