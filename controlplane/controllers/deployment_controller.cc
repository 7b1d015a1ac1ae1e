#include "controlplane/controllers/deployment_controller.h"

#include <set>

#include "common/log.h"
#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string Namespace(const bj::object& obj) {
  return StringAt(obj, {"metadata", "namespace"});
}
std::string Name(const bj::object& obj) {
  return StringAt(obj, {"metadata", "name"});
}

std::string DeploymentUrl(const bj::object& d) {
  return "/apis/apps/v1/namespaces/" + Namespace(d) + "/deployments/" + Name(d);
}

std::string ReplicaSetUrl(const bj::object& rs) {
  return "/apis/apps/v1/namespaces/" + Namespace(rs) + "/replicasets/" + Name(rs);
}

const bj::object* Labels(const bj::object& obj) {
  const bj::value* labels = api::Lookup(obj, {"metadata", "labels"});
  return labels != nullptr ? labels->if_object() : nullptr;
}

bool SameLabels(const bj::object& a, const bj::object& b) {
  const bj::object* la = Labels(a);
  const bj::object* lb = Labels(b);
  if (la == nullptr || lb == nullptr) return la == lb;
  return *la == *lb;
}

std::optional<api::LabelSelector> SelectorOf(const bj::object& obj) {
  const bj::value* sel = api::Lookup(obj, {"spec", "selector"});
  if (sel == nullptr) return std::nullopt;
  Result<api::LabelSelector> parsed = api::LabelSelector::FromJson(*sel, "spec.selector");
  if (!parsed.ok()) return std::nullopt;
  return std::move(*parsed);
}

bool SameRef(const std::optional<OwnerRef>& a, const std::optional<OwnerRef>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->uid == b->uid && a->name == b->name && a->kind == b->kind &&
                a->api_version == b->api_version);
}

}  // namespace

DeploymentController::DeploymentController(const client::ClientConfig& config,
                                           SharedInformers& informers, int workers)
    : Controller("deployment", config, workers),
      recorder_(config, "deployment-controller"),
      deployments_(informers.Register("/apis/apps/v1/deployments", DeploymentHandlers())),
      replica_sets_(informers.Register("/apis/apps/v1/replicasets", ReplicaSetHandlers())),
      pods_(informers.Register("/api/v1/pods", PodHandlers())) {}

DeploymentController::~DeploymentController() {
  Stop();
}

client::InformerHandlers DeploymentController::DeploymentHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& d) {
    deployment_index_.Add(d);
    queue().Add(client::ObjectKey(d));
  };
  h.updated = [this](const bj::object&, const bj::object& d) {
    deployment_index_.Add(d);
    queue().Add(client::ObjectKey(d));
  };
  h.deleted = [this](const bj::object& d) {
    deployment_index_.Remove(d);
    queue().Add(client::ObjectKey(d));
  };
  return h;
}

client::InformerHandlers DeploymentController::ReplicaSetHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& rs) {
    rs_index_.Add(rs);
    OnReplicaSet(nullptr, rs);
  };
  h.updated = [this](const bj::object& old, const bj::object& rs) {
    rs_index_.Add(rs);
    OnReplicaSet(&old, rs);
  };
  h.deleted = [this](const bj::object& rs) {
    rs_index_.Remove(rs);
    OnReplicaSetDeleted(rs);
  };
  return h;
}

client::InformerHandlers DeploymentController::PodHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& pod) { pod_index_.Add(pod); };
  h.updated = [this](const bj::object&, const bj::object& pod) { pod_index_.Add(pod); };
  h.deleted = [this](const bj::object& pod) {
    pod_index_.Remove(pod);
    OnPodDeleted(pod);
  };
  return h;
}

std::optional<bj::object> DeploymentController::Resolve(const std::string& ns,
                                                        const OwnerRef& ref) const {
  if (ref.kind != "Deployment") return std::nullopt;
  std::optional<bj::object> d = deployments_.Get(ns + "/" + ref.name);
  if (!d || StringAt(*d, {"metadata", "uid"}) != ref.uid) return std::nullopt;
  return d;
}

std::vector<std::string> DeploymentController::DeploymentsSelecting(const bj::object& rs) const {
  std::vector<std::string> keys;
  for (const bj::object& d : deployment_index_.List(deployments_, Namespace(rs))) {
    std::optional<api::LabelSelector> selector = SelectorOf(d);
    // An empty selector selects nothing here (upstream's getDeploymentsForReplicaSet).
    if (!selector || selector->empty() || !selector->Matches(Labels(rs))) continue;
    keys.push_back(client::ObjectKey(d));
  }
  return keys;
}

void DeploymentController::OnReplicaSet(const bj::object* old, const bj::object& rs) {
  if (old == nullptr && BeingDeleted(rs)) {
    OnReplicaSetDeleted(rs);
    return;
  }
  if (old != nullptr && StringAt(*old, {"metadata", "resourceVersion"}) ==
                            StringAt(rs, {"metadata", "resourceVersion"})) {
    return;
  }
  std::optional<OwnerRef> now_ref = ControllerOf(rs);
  std::optional<OwnerRef> old_ref = old != nullptr ? ControllerOf(*old) : std::nullopt;
  bool ref_changed = old != nullptr && !SameRef(now_ref, old_ref);
  if (ref_changed && old_ref) {
    if (std::optional<bj::object> d = Resolve(Namespace(*old), *old_ref)) {
      queue().Add(client::ObjectKey(*d));
    }
  }
  if (now_ref) {
    if (std::optional<bj::object> d = Resolve(Namespace(rs), *now_ref)) {
      queue().Add(client::ObjectKey(*d));
    }
    return;
  }
  // An orphan: whoever selects it may adopt it.
  if (old == nullptr || ref_changed || !SameLabels(*old, rs)) {
    for (const std::string& key : DeploymentsSelecting(rs))
      queue().Add(key);
  }
}

void DeploymentController::OnReplicaSetDeleted(const bj::object& rs) {
  std::optional<OwnerRef> ref = ControllerOf(rs);
  if (!ref) return;
  if (std::optional<bj::object> d = Resolve(Namespace(rs), *ref)) {
    queue().Add(client::ObjectKey(*d));
  }
}

void DeploymentController::OnPodDeleted(const bj::object& pod) {
  // Recreate waits for the old pods to be gone.
  std::optional<OwnerRef> rs_ref = ControllerOf(pod);
  if (!rs_ref || rs_ref->kind != "ReplicaSet") return;
  std::optional<bj::object> rs = replica_sets_.Get(Namespace(pod) + "/" + rs_ref->name);
  if (!rs || StringAt(*rs, {"metadata", "uid"}) != rs_ref->uid) return;
  std::optional<OwnerRef> d_ref = ControllerOf(*rs);
  if (!d_ref) return;
  std::optional<bj::object> d = Resolve(Namespace(*rs), *d_ref);
  if (d && StringAt(*d, {"spec", "strategy", "type"}) == "Recreate") {
    queue().Add(client::ObjectKey(*d));
  }
}

Result<std::vector<bj::object>> DeploymentController::ClaimReplicaSets(
    client::ApiClient& api, const bj::object& d, const api::LabelSelector& selector) {
  RefManager refs(api, d, "apps/v1", "Deployment", DeploymentUrl(d), selector, ReplicaSetUrl);
  return refs.Claim(rs_index_.List(replica_sets_, Namespace(d)));
}

DeploymentSync::PodPhases DeploymentController::PodPhases(
    const bj::object& d, const api::LabelSelector& selector,
    const std::vector<bj::object>& rss) const {
  DeploymentSync::PodPhases phases;
  for (const bj::object& rs : rss)
    phases[StringAt(rs, {"metadata", "uid"})];
  // Pods being deleted count too: Recreate waits until they are gone.
  for (const bj::object& pod : pod_index_.List(pods_, Namespace(d))) {
    if (!selector.Matches(Labels(pod))) continue;
    std::optional<OwnerRef> ref = ControllerOf(pod);
    if (!ref) continue;
    auto it = phases.find(ref->uid);
    if (it != phases.end()) it->second.push_back(StringAt(pod, {"status", "phase"}));
  }
  return phases;
}

Status DeploymentController::SelectingAll(client::ApiClient& api, const bj::object& d) {
  recorder_.Record(
      {"apps/v1", "Deployment", Namespace(d), Name(d), StringAt(d, {"metadata", "uid"})}, "Warning",
      "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
  int64_t generation = api::LookupInt(d, {"metadata", "generation"});
  if (api::LookupInt(d, {"status", "observedGeneration"}) >= generation) return Ok();
  bj::object updated = d;
  api::Child(updated, "status")["observedGeneration"] = generation;
  const std::string url = DeploymentUrl(d) + "/status";
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(updated)));
  if (r.status != 200) return HttpError("PUT", url, r);
  return Ok();
}

Status DeploymentController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> d = deployments_.Get(key);
  if (!d) return Ok();
  std::optional<api::LabelSelector> selector = SelectorOf(*d);
  if (!selector) {
    // The apiserver validates selectors: nothing a retry would mend.
    BLOG(kWarn) << "deployment controller: " << key << ": invalid selector";
    return Ok();
  }
  if (selector->empty()) return SelectingAll(api, *d);
  std::vector<bj::object> rss = BERTH_TRY(ClaimReplicaSets(api, *d, *selector));
  DeploymentSync::PodPhases pods;
  if (StringAt(*d, {"spec", "strategy", "type"}) == "Recreate") {
    pods = PodPhases(*d, *selector, rss);
  }
  DeploymentSync::Context context{
      api, recorder_, [this, key](std::chrono::seconds delay) { queue().AddAfter(key, delay); },
      WallClockNow().tv_sec};
  DeploymentSync sync(std::move(context), std::move(*d), std::move(rss), std::move(pods));
  return sync.Run();
}

}  // namespace berth::controlplane::controllers
