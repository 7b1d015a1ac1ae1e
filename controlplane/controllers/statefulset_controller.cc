#include "controlplane/controllers/statefulset_controller.h"

#include <algorithm>
#include <set>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/controller_revisions.h"
#include "controlplane/controllers/statefulset_pods.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kRevisionHashLabel[] = "controller.kubernetes.io/hash";
// retry.DefaultRetry's steps for a status update that conflicts.
constexpr int kStatusRetries = 5;

std::string SetUrl(const bj::object& set) {
  return "/apis/apps/v1/namespaces/" + StringAt(set, {"metadata", "namespace"}) + "/statefulsets/" +
         StringAt(set, {"metadata", "name"});
}

bool SameData(const bj::object& a, const bj::object& b) {
  const bj::value* da = a.if_contains("data");
  const bj::value* db = b.if_contains("data");
  return da != nullptr && db != nullptr && *da == *db;
}

// newRevision: the set's template as revision `number`.
bj::object NewSetRevision(const bj::object& set, int64_t number, int64_t collision_count) {
  bj::object data = TemplatePatch(set);
  std::string hash = RevisionDataHash(data, collision_count);
  const bj::value* l = api::Lookup(set, {"spec", "template", "metadata", "labels"});
  bj::object labels = l != nullptr && l->is_object() ? l->as_object() : bj::object();
  labels[kRevisionHashLabel] = hash;
  std::string prefix = StringAt(set, {"metadata", "name"}).substr(0, 223);
  return NewRevision(set, kStatefulSetKind, prefix + "-" + hash, std::move(labels), std::move(data),
                     number);
}

}  // namespace

StatefulSetController::StatefulSetController(const client::ClientConfig& config,
                                             SharedInformers& informers, int workers)
    : Controller("statefulset", config, workers),
      events_(config, "statefulset-controller"),
      sets_(informers.Register("/apis/apps/v1/statefulsets", SetHandlers())),
      revisions_(informers.Register("/apis/apps/v1/controllerrevisions", {})),
      claims_(informers.Register("/api/v1/persistentvolumeclaims", {})),
      pods_(informers.Register("/api/v1/pods", PodHandlers())) {}

StatefulSetController::~StatefulSetController() {
  Stop();
}

bool StatefulSetController::CachesSynced() const {
  return sets_.Synced() && revisions_.Synced() && claims_.Synced() && pods_.Synced();
}

// ---- informer handlers

client::InformerHandlers StatefulSetController::SetHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& set) { queue().Add(client::ObjectKey(set)); };
  h.updated = [this](const bj::object&, const bj::object& set) {
    queue().Add(client::ObjectKey(set));
  };
  h.deleted = [this](const bj::object& set) { queue().Add(client::ObjectKey(set)); };
  return h;
}

std::string StatefulSetController::OwnerKey(const bj::object& pod) const {
  std::optional<OwnerRef> ref = ControllerOf(pod);
  if (!ref || ref->kind != kStatefulSetKind.kind) return "";
  std::string key = StringAt(pod, {"metadata", "namespace"}) + "/" + ref->name;
  std::optional<bj::object> set = sets_.Get(key);
  if (!set || StringAt(*set, {"metadata", "uid"}) != ref->uid) return "";
  return key;
}

void StatefulSetController::QueueMatching(const bj::object& pod) {
  for (const bj::object& set : InNamespace(sets_, StringAt(pod, {"metadata", "namespace"}))) {
    Result<api::LabelSelector> selector = WorkloadSelector(set);
    if (selector.ok() && !selector->empty() && selector->Matches(LabelsOf(pod))) {
      queue().Add(client::ObjectKey(set));
    }
  }
}

client::InformerHandlers StatefulSetController::PodHandlers() {
  client::InformerHandlers h;
  auto changed = [this](const bj::object* old, const bj::object& pod) {
    std::string owner = OwnerKey(pod);
    if (old != nullptr) {
      std::string old_owner = OwnerKey(*old);
      if (!old_owner.empty() && old_owner != owner) queue().Add(old_owner);
    }
    if (!owner.empty()) {
      queue().Add(owner);
    } else if (!ControllerOf(pod) && !BeingDeleted(pod)) {
      QueueMatching(pod);
    }
  };
  h.added = [this, changed](const bj::object& pod) {
    pod_index_.Add(pod);
    changed(nullptr, pod);
  };
  h.updated = [this, changed](const bj::object& old, const bj::object& pod) {
    pod_index_.Add(pod);
    changed(&old, pod);
  };
  h.deleted = [this](const bj::object& pod) {
    pod_index_.Remove(pod);
    if (std::string owner = OwnerKey(pod); !owner.empty()) queue().Add(owner);
  };
  return h;
}

// ---- sync

Status StatefulSetController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> cached = sets_.Get(key);
  if (!cached) return Ok();
  const bj::object& set = *cached;
  Result<api::LabelSelector> selector = WorkloadSelector(set);
  if (!selector.ok()) return Ok();  // not transient: nothing to retry
  std::vector<bj::object> members;
  for (bj::object& pod : pod_index_.List(pods_, StringAt(set, {"metadata", "namespace"})))
    if (IsMemberOf(set, pod)) members.push_back(std::move(pod));
  std::vector<bj::object> pods = BERTH_TRY_CTX(
      ClaimPods(api, set, kStatefulSetKind, SetUrl(set), *selector, members), "statefulset " + key);
  std::vector<bj::object> revisions = OwnedRevisions(revisions_, set);
  Revisions revs = BERTH_TRY_CTX(GetRevisions(api, set, revisions), "statefulset " + key);

  Context ctx;
  ctx.set = set;
  ctx.current_set = ApplyRevision(set, revs.current);
  ctx.update_set = ApplyRevision(set, revs.update);
  ctx.current_revision = StringAt(revs.current, {"metadata", "name"});
  ctx.update_revision = StringAt(revs.update, {"metadata", "name"});
  ctx.monotonic = StringAt(set, {"spec", "podManagementPolicy"}) != "Parallel";
  ctx.min_ready = api::LookupInt(set, {"spec", "minReadySeconds"});
  SetStatus status;
  status.collision_count = revs.collision_count;
  Status updated = UpdateStatefulSet(api, ctx, pods, status);
  Status stored = UpdateStatus(api, set, status);
  Status truncated = TruncateHistory(api, set, pods, revisions, revs);
  if (!updated.ok()) return std::move(updated).error().Wrap("statefulset " + key);
  if (!stored.ok()) return std::move(stored).error().Wrap("statefulset " + key + ": status");
  if (!truncated.ok()) return std::move(truncated).error().Wrap("statefulset " + key + ": history");
  if (ctx.min_ready > 0 && status.available != api::LookupInt(set, {"spec", "replicas"})) {
    queue().AddAfter(key, std::chrono::seconds(ctx.min_ready));
  }
  return Ok();
}

Result<StatefulSetController::Revisions> StatefulSetController::GetRevisions(
    client::ApiClient& api, const bj::object& set, const std::vector<bj::object>& revisions) {
  Revisions out;
  out.collision_count = IntAt(set, {"status", "collisionCount"}).value_or(0);
  int64_t next = revisions.empty() ? 1 : RevisionNumber(revisions.back()) + 1;
  bj::object wanted = NewSetRevision(set, next, out.collision_count);
  const bj::object* equal = nullptr;  // the newest revision holding this template
  for (const bj::object& r : revisions)
    if (SameData(r, wanted)) equal = &r;
  if (equal != nullptr && equal == &revisions.back()) {
    out.update = *equal;  // the template did not change
  } else if (equal != nullptr) {
    // Back to an older template: that revision becomes the newest.
    out.update = BERTH_TRY(RenumberRevision(api, *equal, next));
  } else {
    out.update = BERTH_TRY(CreateRevisionFor(api, set, wanted, out.collision_count));
  }
  std::string current_name = StringAt(set, {"status", "currentRevision"});
  out.current = out.update;
  for (const bj::object& r : revisions)
    if (StringAt(r, {"metadata", "name"}) == current_name) out.current = r;
  return out;
}

Result<bj::object> StatefulSetController::CreateRevisionFor(client::ApiClient& api,
                                                            const bj::object& set,
                                                            const bj::object& revision,
                                                            int64_t& collision_count) {
  // history.CreateControllerRevision: a name taken by other data means a
  // hash collision; count it and hash again.
  for (int attempt = 0; attempt < 100; ++attempt) {
    bj::object candidate = NewSetRevision(set, RevisionNumber(revision), collision_count);
    Result<bj::object> made = CreateRevision(api, candidate);
    if (made.ok() || made.error().code() != Errc::kAlreadyExists) return made;
    bj::object existing = BERTH_TRY(GetRevision(api, StringAt(set, {"metadata", "namespace"}),
                                                StringAt(candidate, {"metadata", "name"})));
    if (SameData(existing, candidate)) return existing;
    ++collision_count;
  }
  return Error(Errc::kAborted, "no free ControllerRevision name after 100 hash collisions");
}

Status StatefulSetController::TruncateHistory(client::ApiClient& api, const bj::object& set,
                                              const std::vector<bj::object>& pods,
                                              const std::vector<bj::object>& revisions,
                                              const Revisions& live) {
  std::set<std::string> in_use = {StringAt(live.current, {"metadata", "name"}),
                                  StringAt(live.update, {"metadata", "name"})};
  for (const bj::object& pod : pods)
    in_use.insert(PodRevision(pod));
  std::vector<const bj::object*> history;
  for (const bj::object& r : revisions)
    if (!in_use.contains(StringAt(r, {"metadata", "name"}))) history.push_back(&r);
  int64_t limit = IntAt(set, {"spec", "revisionHistoryLimit"}).value_or(10);
  auto excess = static_cast<int64_t>(history.size()) - limit;
  for (int64_t i = 0; i < excess; ++i)  // the oldest first
    BERTH_TRY(DeleteRevision(api, *history[i]));
  return Ok();
}

Status StatefulSetController::UpdateStatus(client::ApiClient& api, const bj::object& set,
                                           SetStatus status) {
  // completeRollingUpdate: every pod updated and ready ends the rollout.
  if (StringAt(set, {"spec", "updateStrategy", "type"}) == "RollingUpdate" &&
      status.updated == status.replicas && status.ready == status.replicas) {
    status.current = status.updated;
    status.current_revision = status.update_revision;
  }
  const std::pair<const char*, int64_t> counts[] = {
      {"observedGeneration", status.observed_generation},
      {"replicas", status.replicas},
      {"readyReplicas", status.ready},
      {"availableReplicas", status.available},
      {"currentReplicas", status.current},
      {"updatedReplicas", status.updated},
      {"collisionCount", status.collision_count}};
  bool same = StringAt(set, {"status", "currentRevision"}) == status.current_revision &&
              StringAt(set, {"status", "updateRevision"}) == status.update_revision;
  for (const auto& [field, value] : counts)
    same = same && IntAt(set, {"status", field}) == value;
  if (same) return Ok();
  const std::string url = SetUrl(set) + "/status";
  bj::object update = set;
  for (int attempt = 0;; ++attempt) {
    bj::object fields;
    for (const auto& [field, value] : counts)
      fields[field] = value;
    fields["currentRevision"] = status.current_revision;
    fields["updateRevision"] = status.update_revision;
    update["status"] = std::move(fields);
    client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(update)));
    if (r.status == 200 || r.status == 404) return Ok();
    if (r.status != 409 || attempt + 1 >= kStatusRetries) return HttpError("PUT", url, r);
    client::ApiResponse fresh = BERTH_TRY(api.Do("GET", SetUrl(set)));
    if (fresh.status != 200) return HttpError("GET", SetUrl(set), fresh);
    bj::value v = fresh.Json();
    if (!v.is_object()) return Error(Errc::kDataLoss, "GET " + SetUrl(set) + ": not JSON");
    update = std::move(v.as_object());
  }
}

}  // namespace berth::controlplane::controllers
