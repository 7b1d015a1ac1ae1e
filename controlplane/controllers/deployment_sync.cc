#include "controlplane/controllers/deployment_sync.h"

#include <algorithm>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/deployment_conditions.h"
#include "controlplane/controllers/deployment_revisions.h"
#include "controlplane/controllers/pod_template_hash.h"
#include "controlplane/controllers/replicaset_status.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string Name(const bj::object& obj) {
  return StringAt(obj, {"metadata", "name"});
}
std::string Namespace(const bj::object& obj) {
  return StringAt(obj, {"metadata", "namespace"});
}

std::string ReplicaSetsUrl(const std::string& ns) {
  return "/apis/apps/v1/namespaces/" + ns + "/replicasets";
}

std::string Quoted(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

DeploymentSync::DeploymentSync(Context context, bj::object deployment,
                               std::vector<bj::object> replica_sets, PodPhases pods)
    : ctx_(std::move(context)), d_(std::move(deployment)), pods_(std::move(pods)) {
  for (bj::object& rs : replica_sets) {
    store_.push_back(std::move(rs));
    rs_list_.push_back(&store_.back());
  }
}

Status DeploymentSync::Run() {
  if (BeingDeleted(d_)) return SyncStatusOnly();
  // Marks pausing and resuming, so that a resumed Deployment is not taken
  // for one that stopped progressing.
  BERTH_TRY(CheckPausedConditions());
  if (Paused(d_)) return SyncScaling();
  if (BERTH_TRY(IsScalingEvent())) return SyncScaling();
  std::string type = StringAt(d_, {"spec", "strategy", "type"});
  if (type == "Recreate") return RolloutRecreate();
  if (type == "RollingUpdate") return RolloutRolling();
  return Error(Errc::kInvalidArgument, "deployment " + Namespace(d_) + "/" + Name(d_) +
                                           ": unexpected deployment strategy type: " + type);
}

Status DeploymentSync::SyncStatusOnly() {
  Split s = BERTH_TRY(GetAllReplicaSetsAndSyncRevision(false));
  return SyncDeploymentStatus(AllOf(s.old, s.new_rs), s.new_rs);
}

Status DeploymentSync::SyncScaling() {
  Split s = BERTH_TRY(GetAllReplicaSetsAndSyncRevision(false));
  BERTH_TRY(Scale(s.new_rs, s.old));
  if (Paused(d_)) BERTH_TRY(CleanupDeployment(s.old));
  return SyncDeploymentStatus(AllOf(s.old, s.new_rs), s.new_rs);
}

Result<bool> DeploymentSync::IsScalingEvent() {
  Split s = BERTH_TRY(GetAllReplicaSetsAndSyncRevision(false));
  for (const bj::object* rs : FilterActive(AllOf(s.old, s.new_rs))) {
    std::optional<int64_t> desired = DesiredReplicasAnnotation(*rs);
    if (desired && *desired != SpecReplicas(d_)) return true;
  }
  return false;
}

Result<DeploymentSync::Split> DeploymentSync::GetAllReplicaSetsAndSyncRevision(bool create) {
  bj::object* existing = FindNewReplicaSet(d_, rs_list_);
  ReplicaSetList old = OldReplicaSets(rs_list_, existing);
  bj::object* new_rs = BERTH_TRY(GetNewReplicaSet(existing, old, create));
  return Split{new_rs, std::move(old)};
}

Result<bj::object*> DeploymentSync::GetNewReplicaSet(bj::object* existing,
                                                     const ReplicaSetList& old, bool create) {
  std::string revision = std::to_string(MaxRevision(old) + 1);
  if (existing == nullptr) {
    if (!create) return nullptr;
    return CreateNewReplicaSet(old, revision);
  }
  bj::object copy = *existing;
  bool annotations_changed = SetNewReplicaSetAnnotations(d_, copy, revision, true);
  if (annotations_changed || MinReadySeconds(copy) != MinReadySeconds(d_)) {
    api::Child(copy, "spec")["minReadySeconds"] = MinReadySeconds(d_);
    BERTH_TRY(UpdateReplicaSet(*existing, copy));
    return existing;
  }
  // The ReplicaSet's revision is the reliable one (it was set first).
  bool needs_update = SetDeploymentRevision(d_, Annotation(*existing, kRevisionAnnotation));
  if (ProgressDeadlineSeconds(d_) &&
      GetCondition(StatusObject(), kDeploymentProgressing) == nullptr) {
    SetCondition(StatusObject(),
                 NewCondition(kDeploymentProgressing, "True", kFoundNewRSReason,
                              "Found new replica set " + Quoted(Name(*existing)), ctx_.now));
    needs_update = true;
  }
  if (needs_update) BERTH_TRY(UpdateStatus());
  return existing;
}

Result<bj::object*> DeploymentSync::CreateNewReplicaSet(const ReplicaSetList& old,
                                                        const std::string& revision) {
  bj::object pod_template;
  if (const bj::value* t = api::Lookup(d_, {"spec", "template"}); t && t->is_object()) {
    pod_template = t->as_object();
  }
  std::optional<int64_t> collisions;
  if (const bj::value* c = api::Lookup(d_, {"status", "collisionCount"}); c && c->is_int64()) {
    collisions = c->as_int64();
  }
  std::string hash = ComputeHash(pod_template, collisions);
  bj::object& labels = api::Child(api::Child(pod_template, "metadata"), "labels");
  labels[kPodTemplateHashLabel] = hash;
  bj::object selector;
  if (const bj::value* s = api::Lookup(d_, {"spec", "selector"}); s && s->is_object()) {
    selector = s->as_object();
  }
  api::Child(selector, "matchLabels")[kPodTemplateHashLabel] = hash;
  const std::string name = Name(d_) + "-" + hash;
  const std::string ns = Namespace(d_);
  bj::object rs{{"apiVersion", "apps/v1"},
                {"kind", "ReplicaSet"},
                {"metadata", bj::object{{"name", name},
                                        {"namespace", ns},
                                        {"ownerReferences",
                                         bj::array{ControllerRefTo(d_, "apps/v1", "Deployment")}},
                                        {"labels", labels}}},
                {"spec", bj::object{{"replicas", 0},
                                    {"minReadySeconds", MinReadySeconds(d_)},
                                    {"selector", std::move(selector)},
                                    {"template", std::move(pod_template)}}}};
  ReplicaSetList all = old;
  all.push_back(&rs);
  int64_t replicas = NewRSNewReplicas(d_, all, rs);
  rs["spec"].as_object()["replicas"] = replicas;
  SetNewReplicaSetAnnotations(d_, rs, revision, false);

  const std::string url = ReplicaSetsUrl(ns);
  client::ApiResponse r = BERTH_TRY(ctx_.api.Do("POST", url, bj::serialize(rs)));
  bool already_exists = false;
  bj::object created;
  if (r.status == 201) {
    bj::value body = r.Json();
    if (!body.is_object()) return Error(Errc::kDataLoss, "POST " + url + ": not an object");
    created = std::move(body.as_object());
  } else if (r.status == 409 && r.Json().is_object() &&
             StringAt(r.Json().as_object(), {"reason"}) == "AlreadyExists") {
    // A slow cache, or a hash collision with another template.
    const std::string rs_url = url + "/" + name;
    client::ApiResponse got = BERTH_TRY(ctx_.api.Do("GET", rs_url));
    if (got.status != 200) return HttpError("GET", rs_url, got);
    bj::value body = got.Json();
    if (!body.is_object()) return Error(Errc::kDataLoss, "GET " + rs_url + ": not an object");
    std::optional<OwnerRef> owner = ControllerOf(body.as_object());
    const bj::value* have = api::Lookup(body.as_object(), {"spec", "template"});
    const bj::value* want = api::Lookup(d_, {"spec", "template"});
    if (!owner || owner->uid != StringAt(d_, {"metadata", "uid"}) || have == nullptr ||
        want == nullptr || !EqualIgnoreHash(*have, *want)) {
      StatusObject()["collisionCount"] = collisions.value_or(0) + 1;
      Status bumped = UpdateStatus();
      (void)bumped;  // the collision is the error to report; the next sync retries either way
      return Error(Errc::kAborted, "POST " + url + ": replica set " + name +
                                       " exists with another template (hash collision)");
    }
    already_exists = true;
    created = std::move(body.as_object());
  } else if (r.status == 403 && HasStatusCause(r, "NamespaceTerminating")) {
    return HttpError("POST", url, r);
  } else {
    std::string message =
        "Failed to create new replica set " + Quoted(name) + ": " + StatusMessage(r, "POST", url);
    if (ProgressDeadlineSeconds(d_)) {
      SetCondition(StatusObject(), NewCondition(kDeploymentProgressing, "False",
                                                kFailedRSCreateReason, message, ctx_.now));
      Status reported = UpdateStatus();
      (void)reported;  // the failed create is the error that matters
    }
    RecordEvent("Warning", kFailedRSCreateReason, message);
    return HttpError("POST", url, r);
  }
  if (!already_exists && replicas > 0) {
    RecordEvent("Normal", "ScalingReplicaSet",
                "Scaled up replica set " + name + " from 0 to " + std::to_string(replicas));
  }
  store_.push_back(std::move(created));
  bj::object* made = &store_.back();
  rs_list_.push_back(made);
  bool needs_update = SetDeploymentRevision(d_, revision);
  if (!already_exists && ProgressDeadlineSeconds(d_)) {
    SetCondition(StatusObject(), NewCondition(kDeploymentProgressing, "True", kNewReplicaSetReason,
                                              "Created new replica set " + Quoted(name), ctx_.now));
    needs_update = true;
  }
  if (needs_update) BERTH_TRY(UpdateStatus());
  return made;
}

Status DeploymentSync::Scale(bj::object* new_rs, const ReplicaSetList& old) {
  int64_t replicas = SpecReplicas(d_);
  // One active ReplicaSet (or none): it (or the newest) takes all.
  if (bj::object* only = FindActiveOrLatest(new_rs, old)) {
    if (SpecReplicas(*only) == replicas) return Ok();
    BERTH_TRY(ScaleReplicaSetAndRecordEvent(*only, replicas));
    return Ok();
  }
  if (IsSaturated(d_, new_rs)) {
    for (bj::object* rs : FilterActive(old))
      BERTH_TRY(ScaleReplicaSetAndRecordEvent(*rs, 0));
    return Ok();
  }
  // Mid-rollout: every active ReplicaSet scales in proportion, the
  // rounding leftovers going to the largest.
  if (!IsRollingUpdate(d_)) return Ok();
  ReplicaSetList all = FilterActive(AllOf(old, new_rs));
  int64_t allowed = replicas > 0 ? replicas + MaxSurge(d_) : 0;
  int64_t to_add = allowed - SpecReplicaSum(all);
  std::string operation;
  if (to_add > 0) {
    SortBySizeNewer(all);
    operation = "up";
  } else if (to_add < 0) {
    SortBySizeOlder(all);
    operation = "down";
  }
  std::vector<int64_t> sizes;
  int64_t added = 0;
  for (const bj::object* rs : all) {
    int64_t share = to_add != 0 ? GetProportion(*rs, d_, to_add, added) : 0;
    sizes.push_back(SpecReplicas(*rs) + share);
    added += share;
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (i == 0 && to_add != 0) sizes[0] = std::max<int64_t>(sizes[0] + to_add - added, 0);
    BERTH_TRY(ScaleReplicaSet(*all[i], sizes[i], operation));
  }
  return Ok();
}

Result<bool> DeploymentSync::ScaleReplicaSetAndRecordEvent(bj::object& rs, int64_t scale) {
  int64_t have = SpecReplicas(rs);
  if (have == scale) return false;
  return ScaleReplicaSet(rs, scale, have < scale ? "up" : "down");
}

Result<bool> DeploymentSync::ScaleReplicaSet(bj::object& rs, int64_t scale,
                                             std::string_view operation) {
  int64_t replicas = SpecReplicas(d_);
  int64_t max = replicas + MaxSurge(d_);
  int64_t have = SpecReplicas(rs);
  bool size_changes = have != scale;
  if (!size_changes && !ReplicasAnnotationsNeedUpdate(rs, replicas, max)) return false;
  bj::object copy = rs;
  api::Child(copy, "spec")["replicas"] = scale;
  SetReplicasAnnotations(copy, replicas, max);
  BERTH_TRY(UpdateReplicaSet(rs, copy));
  if (!size_changes) return false;
  RecordEvent("Normal", "ScalingReplicaSet",
              "Scaled " + std::string(operation) + " replica set " + Name(rs) + " to " +
                  std::to_string(scale) + " from " + std::to_string(have));
  return true;
}

Status DeploymentSync::CleanupDeployment(const ReplicaSetList& old) {
  std::optional<int64_t> limit = RevisionHistoryLimit(d_);
  if (!limit) return Ok();
  ReplicaSetList cleanable;
  for (bj::object* rs : old)
    if (!BeingDeleted(*rs)) cleanable.push_back(rs);
  int64_t diff = static_cast<int64_t>(cleanable.size()) - *limit;
  if (diff <= 0) return Ok();
  SortByRevision(cleanable);
  for (int64_t i = 0; i < diff; ++i) {
    const bj::object& rs = *cleanable[static_cast<size_t>(i)];
    // Only those scaled to zero whose controller saw that.
    if (StatusCount(rs, "replicas") != 0 || SpecReplicas(rs) != 0 ||
        api::LookupInt(rs, {"metadata", "generation"}) > StatusCount(rs, "observedGeneration")) {
      continue;
    }
    const std::string url = ReplicaSetsUrl(Namespace(rs)) + "/" + Name(rs);
    client::ApiResponse r = BERTH_TRY(ctx_.api.Do("DELETE", url));
    if (r.status != 200 && r.status != 202 && r.status != 404) return HttpError("DELETE", url, r);
  }
  return Ok();
}

Status DeploymentSync::UpdateReplicaSet(bj::object& rs, const bj::object& wanted) {
  const std::string url = ReplicaSetsUrl(Namespace(rs)) + "/" + Name(rs);
  client::ApiResponse r = BERTH_TRY(ctx_.api.Do("PUT", url, bj::serialize(wanted)));
  if (r.status != 200) return HttpError("PUT", url, r);
  bj::value stored = r.Json();
  if (!stored.is_object()) return Error(Errc::kDataLoss, "PUT " + url + ": not an object");
  rs = std::move(stored.as_object());
  return Ok();
}

std::string DeploymentSync::Url() const {
  return "/apis/apps/v1/namespaces/" + Namespace(d_) + "/deployments/" + Name(d_);
}

void DeploymentSync::RecordEvent(const std::string& type, const std::string& reason,
                                 const std::string& message) {
  ctx_.recorder.Record(
      {"apps/v1", "Deployment", Namespace(d_), Name(d_), StringAt(d_, {"metadata", "uid"})}, type,
      reason, message);
}

}  // namespace berth::controlplane::controllers
