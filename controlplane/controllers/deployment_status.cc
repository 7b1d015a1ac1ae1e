// A Deployment's status (upstream's calculateStatus, syncRolloutStatus and
// checkPausedConditions): counts summed over its ReplicaSets, the
// Available condition against maxUnavailable, and the Progressing
// condition with the progress deadline (deployment_sync.h).

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/deployment_conditions.h"
#include "controlplane/controllers/deployment_sync.h"
#include "controlplane/controllers/replicaset_status.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

void SetCount(bj::object& status, std::string_view field, int64_t n) {
  if (n != 0) status[field] = n;
}

std::string Quoted(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

bj::object& DeploymentSync::StatusObject() {
  bj::value& status = d_["status"];
  if (!status.is_object()) status = bj::object();
  return status.as_object();
}

bj::object DeploymentSync::CalculateStatus(const ReplicaSetList& all,
                                           const bj::object* new_rs) const {
  int64_t available = StatusSum(all, "availableReplicas");
  bj::object status;
  SetCount(status, "observedGeneration", api::LookupInt(d_, {"metadata", "generation"}));
  SetCount(status, "replicas", StatusSum(all, "replicas"));
  SetCount(status, "updatedReplicas", new_rs != nullptr ? StatusCount(*new_rs, "replicas") : 0);
  SetCount(status, "readyReplicas", StatusSum(all, "readyReplicas"));
  SetCount(status, "availableReplicas", available);
  // Negative while scaling down (more available than wanted): none.
  SetCount(status, "unavailableReplicas", std::max<int64_t>(SpecReplicaSum(all) - available, 0));
  for (const char* kept : {"collisionCount", "conditions"}) {
    if (const bj::value* v = api::Lookup(d_, {"status", kept}); v != nullptr && !v->is_null()) {
      status[kept] = *v;
    }
  }
  if (available >= SpecReplicas(d_) - MaxUnavailable(d_)) {
    SetCondition(status, NewCondition(kDeploymentAvailable, "True", kMinimumReplicasAvailable,
                                      "Deployment has minimum availability.", ctx_.now));
  } else {
    SetCondition(status, NewCondition(kDeploymentAvailable, "False", kMinimumReplicasUnavailable,
                                      "Deployment does not have minimum availability.", ctx_.now));
  }
  return status;
}

Status DeploymentSync::SyncDeploymentStatus(const ReplicaSetList& all, const bj::object* new_rs) {
  bj::object status = CalculateStatus(all, new_rs);
  if (status == StatusObject()) return Ok();
  StatusObject() = std::move(status);
  return UpdateStatus();
}

Status DeploymentSync::SyncRolloutStatus(const ReplicaSetList& all, const bj::object* new_rs) {
  bj::object status = CalculateStatus(all, new_rs);
  bool has_deadline = ProgressDeadlineSeconds(d_).has_value();
  if (!has_deadline) RemoveCondition(status, kDeploymentProgressing);
  const bj::object* current = GetCondition(StatusObject(), kDeploymentProgressing);
  auto count = [&](std::string_view f) {
    const bj::value* v = status.if_contains(f);
    return v != nullptr && v->is_int64() ? v->as_int64() : 0;
  };
  // One active ReplicaSet and the rollout already marked complete: a
  // resync, with no progress to estimate.
  bool complete_before = count("replicas") == count("updatedReplicas") && current != nullptr &&
                         StringAt(*current, {"reason"}) == kNewRSAvailableReason;
  std::string subject = new_rs != nullptr
                            ? "ReplicaSet " + Quoted(StringAt(*new_rs, {"metadata", "name"}))
                            : "Deployment " + Quoted(StringAt(d_, {"metadata", "name"}));
  if (has_deadline && !complete_before) {
    if (DeploymentComplete(d_, status)) {
      SetCondition(status, NewCondition(kDeploymentProgressing, "True", kNewRSAvailableReason,
                                        subject + " has successfully progressed.", ctx_.now));
    } else if (DeploymentProgressing(d_, status)) {
      bj::object condition = NewCondition(kDeploymentProgressing, "True", kReplicaSetUpdatedReason,
                                          subject + " is progressing.", ctx_.now);
      // Progress moves lastUpdateTime even when the reason stays the same
      // (SetCondition alone would keep the old condition).
      if (current != nullptr) {
        if (StringAt(*current, {"status"}) == "True") {
          condition["lastTransitionTime"] = StringAt(*current, {"lastTransitionTime"});
        }
        RemoveCondition(status, kDeploymentProgressing);
      }
      SetCondition(status, std::move(condition));
    } else if (DeploymentTimedOut(d_, status, ctx_.now)) {
      SetCondition(status, NewCondition(kDeploymentProgressing, "False", kTimedOutReason,
                                        subject + " has timed out progressing.", ctx_.now));
    }
  }
  // The ReplicaSets' ReplicaFailure conditions (the new one's first).
  const bj::object* failure = nullptr;
  ReplicaSetList ordered = all;
  if (new_rs != nullptr) {
    std::stable_partition(ordered.begin(), ordered.end(),
                          [&](const bj::object* rs) { return rs == new_rs; });
  }
  for (const bj::object* rs : ordered) {
    const bj::value* s = rs->if_contains("status");
    if (s == nullptr || !s->is_object()) continue;
    failure = GetCondition(s->as_object(), kDeploymentReplicaFailure);
    if (failure != nullptr) break;
  }
  if (failure != nullptr) {
    std::string since = StringAt(*failure, {"lastTransitionTime"});
    SetCondition(status, bj::object{{"type", kDeploymentReplicaFailure},
                                    {"status", StringAt(*failure, {"status"})},
                                    {"lastUpdateTime", since},
                                    {"lastTransitionTime", since},
                                    {"reason", StringAt(*failure, {"reason"})},
                                    {"message", StringAt(*failure, {"message"})}});
  } else {
    RemoveCondition(status, kDeploymentReplicaFailure);
  }
  if (status == StatusObject()) {
    RequeueStuckDeployment(status);
    return Ok();
  }
  StatusObject() = std::move(status);
  return UpdateStatus();
}

void DeploymentSync::RequeueStuckDeployment(const bj::object& status) {
  std::optional<int64_t> deadline = ProgressDeadlineSeconds(d_);
  const bj::object* current = GetCondition(status, kDeploymentProgressing);
  if (!deadline || current == nullptr) return;
  if (DeploymentComplete(d_, status)) return;
  if (StringAt(*current, {"reason"}) == kTimedOutReason) return;
  time_t last = api::ParseRfc3339(StringAt(*current, {"lastUpdateTime"}));
  if (last < 0) return;
  // Looked at again once the deadline has passed (a second later, for
  // the timestamps' granularity).
  int64_t after = last + *deadline - ctx_.now;
  ctx_.requeue_after(std::chrono::seconds(std::max<int64_t>(after, 0) + 1));
}

Status DeploymentSync::CheckPausedConditions() {
  if (!ProgressDeadlineSeconds(d_)) return Ok();
  const bj::object* current = GetCondition(StatusObject(), kDeploymentProgressing);
  std::string reason = current != nullptr ? StringAt(*current, {"reason"}) : "";
  // A reported lack of progress is not overwritten by pausing.
  if (reason == kTimedOutReason) return Ok();
  bool paused_marked = reason == kPausedDeployReason;
  if (Paused(d_) && !paused_marked) {
    SetCondition(StatusObject(),
                 NewCondition(kDeploymentProgressing, "Unknown", kPausedDeployReason,
                              "Deployment is paused", ctx_.now));
  } else if (!Paused(d_) && paused_marked) {
    SetCondition(StatusObject(),
                 NewCondition(kDeploymentProgressing, "Unknown", kResumedDeployReason,
                              "Deployment is resumed", ctx_.now));
  } else {
    return Ok();
  }
  return UpdateStatus();
}

Status DeploymentSync::UpdateStatus() {
  const std::string url = Url() + "/status";
  client::ApiResponse r = BERTH_TRY(ctx_.api.Do("PUT", url, boost::json::serialize(d_)));
  if (r.status != 200) return HttpError("PUT", url, r);
  bj::value stored = r.Json();
  if (!stored.is_object()) return Error(Errc::kDataLoss, "PUT " + url + ": not an object");
  d_ = std::move(stored.as_object());
  return Ok();
}

}  // namespace berth::controlplane::controllers
