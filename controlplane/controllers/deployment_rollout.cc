// The rollout strategies (upstream's rolling.go and recreate.go):
//
// RollingUpdate scales the new ReplicaSet up as far as maxSurge allows,
// else scales old ones down as far as maxUnavailable allows (the
// unhealthy pods' share first, so that broken old pods do not block the
// rollout), one step per sync; each step's writes trigger the next sync.
//
// Recreate scales every old ReplicaSet to zero, waits until none of
// their pods is left (terminating ones included), then makes or scales
// the new ReplicaSet to spec.replicas.

#include <algorithm>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/deployment_sync.h"
#include "controlplane/controllers/replicaset_status.h"

namespace berth::controlplane::controllers {

namespace bj = boost::json;

Status DeploymentSync::RolloutRolling() {
  Split s = BERTH_TRY(GetAllReplicaSetsAndSyncRevision(true));
  ReplicaSetList all = AllOf(s.old, s.new_rs);
  if (s.new_rs == nullptr) return Error(Errc::kInternal, "no new replica set after creating it");
  if (BERTH_TRY(ReconcileNewReplicaSet(all, *s.new_rs))) return SyncRolloutStatus(all, s.new_rs);
  if (BERTH_TRY(ReconcileOldReplicaSets(all, FilterActive(s.old), *s.new_rs))) {
    return SyncRolloutStatus(all, s.new_rs);
  }
  if (DeploymentComplete(d_, StatusObject())) BERTH_TRY(CleanupDeployment(s.old));
  return SyncRolloutStatus(all, s.new_rs);
}

Result<bool> DeploymentSync::ReconcileNewReplicaSet(const ReplicaSetList& all, bj::object& new_rs) {
  int64_t replicas = SpecReplicas(d_);
  int64_t have = SpecReplicas(new_rs);
  if (have == replicas) return false;
  if (have > replicas) return ScaleReplicaSetAndRecordEvent(new_rs, replicas);
  return ScaleReplicaSetAndRecordEvent(new_rs, NewRSNewReplicas(d_, all, new_rs));
}

Result<bool> DeploymentSync::ReconcileOldReplicaSets(const ReplicaSetList& all,
                                                     const ReplicaSetList& old,
                                                     const bj::object& new_rs) {
  if (SpecReplicaSum(old) == 0) return false;
  int64_t min_available = SpecReplicas(d_) - MaxUnavailable(d_);
  int64_t new_unavailable = SpecReplicas(new_rs) - StatusCount(new_rs, "availableReplicas");
  int64_t max_scaled_down = SpecReplicaSum(all) - min_available - new_unavailable;
  if (max_scaled_down <= 0) return false;
  int64_t cleaned = BERTH_TRY(CleanupUnhealthyReplicas(old, max_scaled_down));
  int64_t scaled = BERTH_TRY(ScaleDownOldReplicaSetsForRollingUpdate(all, old));
  return cleaned + scaled > 0;
}

Result<int64_t> DeploymentSync::CleanupUnhealthyReplicas(ReplicaSetList old, int64_t max_cleanup) {
  SortByCreation(old);
  int64_t total = 0;
  for (bj::object* rs : old) {
    if (total >= max_cleanup) break;
    int64_t have = SpecReplicas(*rs);
    int64_t healthy = StatusCount(*rs, "availableReplicas");
    if (have == 0 || have <= healthy) continue;
    int64_t down = std::min(max_cleanup - total, have - healthy);
    BERTH_TRY(ScaleReplicaSetAndRecordEvent(*rs, have - down));
    total += down;
  }
  return total;
}

Result<int64_t> DeploymentSync::ScaleDownOldReplicaSetsForRollingUpdate(const ReplicaSetList& all,
                                                                        ReplicaSetList old) {
  int64_t min_available = SpecReplicas(d_) - MaxUnavailable(d_);
  int64_t available = AvailableForScaleDown(all);
  if (available <= min_available) return 0;
  SortByCreation(old);
  int64_t wanted = available - min_available;
  int64_t total = 0;
  for (bj::object* rs : old) {
    if (total >= wanted) break;
    int64_t have = SpecReplicas(*rs);
    if (have == 0) continue;
    int64_t down = std::min(have, wanted - total);
    BERTH_TRY(ScaleReplicaSetAndRecordEvent(*rs, have - down));
    total += down;
  }
  return total;
}

Status DeploymentSync::RolloutRecreate() {
  Split s = BERTH_TRY(GetAllReplicaSetsAndSyncRevision(false));
  ReplicaSetList all = AllOf(s.old, s.new_rs);
  bool scaled_down = false;
  for (bj::object* rs : FilterActive(s.old)) {
    BERTH_TRY(ScaleReplicaSetAndRecordEvent(*rs, 0));
    scaled_down = true;
  }
  if (scaled_down || OldPodsRunning(s.new_rs, s.old)) return SyncRolloutStatus(all, s.new_rs);
  if (s.new_rs == nullptr) {
    s = BERTH_TRY(GetAllReplicaSetsAndSyncRevision(true));
    all = AllOf(s.old, s.new_rs);
    if (s.new_rs == nullptr) return Error(Errc::kInternal, "no new replica set after creating it");
  }
  BERTH_TRY(ScaleReplicaSetAndRecordEvent(*s.new_rs, SpecReplicas(d_)));
  if (DeploymentComplete(d_, StatusObject())) BERTH_TRY(CleanupDeployment(s.old));
  return SyncRolloutStatus(all, s.new_rs);
}

bool DeploymentSync::OldPodsRunning(const bj::object* new_rs, const ReplicaSetList& old) const {
  if (StatusSum(old, "replicas") > 0) return true;
  std::string new_uid = new_rs != nullptr ? StringAt(*new_rs, {"metadata", "uid"}) : "";
  for (const auto& [uid, phases] : pods_) {
    if (uid == new_uid) continue;
    for (const std::string& phase : phases)
      if (phase != "Failed" && phase != "Succeeded") return true;
  }
  return false;
}

}  // namespace berth::controlplane::controllers
