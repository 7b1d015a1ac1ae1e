#pragma once
// One sync of one Deployment, as upstream's syncDeployment after it has
// claimed the ReplicaSets: pausing and scaling events, the rollout
// strategies (deployment_rollout.cc), the new ReplicaSet and revisions
// (deployment_sync.cc), cleanup of old ReplicaSets, and the status
// (deployment_status.cc).
//
// It works on copies of the cached objects; every write is a PUT carrying
// the copy's resourceVersion, so a decision taken on a stale cache fails
// with 409 and the Deployment is synced again. After a write, the copy is
// replaced by what the apiserver stored, so later steps of the same sync
// build on it.

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/event_recorder.h"
#include "controlplane/controllers/deployment_util.h"

namespace berth::controlplane::controllers {

class DeploymentSync {
 public:
  struct Context {
    client::ApiClient& api;
    client::EventRecorder& recorder;
    // Sync the Deployment again after a delay.
    std::function<void(std::chrono::seconds)> requeue_after;
    time_t now;
  };
  // Phases of the pods each ReplicaSet (by uid) controls, being deleted or
  // not: what Recreate waits on.
  using PodPhases = std::map<std::string, std::vector<std::string>>;

  // `replica_sets`: those the Deployment controls (claimed).
  DeploymentSync(Context context, boost::json::object deployment,
                 std::vector<boost::json::object> replica_sets, PodPhases pods);

  Status Run();

 private:
  struct Split {
    boost::json::object* new_rs = nullptr;  // null when there is none (yet)
    ReplicaSetList old;
  };

  // deployment_sync.cc
  Status SyncStatusOnly();
  // Upstream's sync(): scaling events and paused Deployments.
  Status SyncScaling();
  Result<bool> IsScalingEvent();
  // The new ReplicaSet (made when `create`) and the old ones, with the
  // revisions brought up to date.
  Result<Split> GetAllReplicaSetsAndSyncRevision(bool create);
  Result<boost::json::object*> GetNewReplicaSet(boost::json::object* existing,
                                                const ReplicaSetList& old, bool create);
  Result<boost::json::object*> CreateNewReplicaSet(const ReplicaSetList& old,
                                                   const std::string& revision);
  // Proportional scaling of every active ReplicaSet to a new spec.replicas.
  Status Scale(boost::json::object* new_rs, const ReplicaSetList& old);
  Result<bool> ScaleReplicaSetAndRecordEvent(boost::json::object& rs, int64_t scale);
  Result<bool> ScaleReplicaSet(boost::json::object& rs, int64_t scale, std::string_view operation);
  // Old ReplicaSets beyond revisionHistoryLimit, scaled to zero, deleted.
  Status CleanupDeployment(const ReplicaSetList& old);
  Status UpdateReplicaSet(boost::json::object& rs, const boost::json::object& wanted);

  // deployment_rollout.cc
  Status RolloutRolling();
  Status RolloutRecreate();
  Result<bool> ReconcileNewReplicaSet(const ReplicaSetList& all, boost::json::object& new_rs);
  Result<bool> ReconcileOldReplicaSets(const ReplicaSetList& all, const ReplicaSetList& old,
                                       const boost::json::object& new_rs);
  Result<int64_t> CleanupUnhealthyReplicas(ReplicaSetList old, int64_t max_cleanup);
  Result<int64_t> ScaleDownOldReplicaSetsForRollingUpdate(const ReplicaSetList& all,
                                                          ReplicaSetList old);
  bool OldPodsRunning(const boost::json::object* new_rs, const ReplicaSetList& old) const;

  // deployment_status.cc
  boost::json::object CalculateStatus(const ReplicaSetList& all,
                                      const boost::json::object* new_rs) const;
  Status SyncDeploymentStatus(const ReplicaSetList& all, const boost::json::object* new_rs);
  Status SyncRolloutStatus(const ReplicaSetList& all, const boost::json::object* new_rs);
  Status CheckPausedConditions();
  void RequeueStuckDeployment(const boost::json::object& status);
  // PUTs the Deployment's status (and, as upstream's status strategy
  // allows, its annotations).
  Status UpdateStatus();
  boost::json::object& StatusObject();
  void RecordEvent(const std::string& type, const std::string& reason, const std::string& message);

  std::string Url() const;

  Context ctx_;
  boost::json::object d_;
  std::deque<boost::json::object> store_;  // the ReplicaSets; stable addresses
  ReplicaSetList rs_list_;
  PodPhases pods_;
};

}  // namespace berth::controlplane::controllers
