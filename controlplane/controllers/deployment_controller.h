#pragma once
// The Deployment controller, as upstream's (pkg/controller/deployment): a
// Deployment runs its pod template through ReplicaSets it controls, one
// per template version.
//
//   - ReplicaSets: named "<deployment>-<pod-template-hash>", the hash
//     label added to their template and selector (pod_template_hash.h);
//     orphans matching the selector are adopted, controlled ones that stop
//     matching are released (controller_ref.h).
//   - Revisions and replica annotations (deployment_revisions.h): the
//     history `kubectl rollout history/undo` reads; undo (kubectl 1.33
//     does it client-side) patches the template back, which makes that
//     ReplicaSet the new one again with the next revision.
//   - Rollouts (deployment_sync.h): RollingUpdate within maxSurge and
//     maxUnavailable, or Recreate; a change of spec.replicas alone is a
//     scaling event, proportioned over the active ReplicaSets; a paused
//     Deployment only scales; old ReplicaSets beyond
//     revisionHistoryLimit are deleted once scaled to zero.
//   - Status: observedGeneration, replicas, updatedReplicas,
//     readyReplicas, availableReplicas, unavailableReplicas,
//     collisionCount, and the Available, Progressing (with
//     progressDeadlineSeconds) and ReplicaFailure conditions.
//   - Events (component "deployment-controller"): ScalingReplicaSet
//     ("Scaled up replica set web-5d4f8 from 0 to 3", "Scaled down replica
//     set web-7c9b2 to 1 from 2"), ReplicaSetCreateError, SelectingAll.

#include <optional>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/deployment_sync.h"
#include "controlplane/controllers/namespace_index.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/server/api/selectors.h"

namespace berth::controlplane::controllers {

class DeploymentController : public Controller {
 public:
  DeploymentController(const client::ClientConfig& config, SharedInformers& informers, int workers);
  ~DeploymentController() override;

 protected:
  // `key`: namespace/name of a Deployment.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override {
    return deployments_.Synced() && replica_sets_.Synced() && pods_.Synced();
  }

 private:
  client::InformerHandlers DeploymentHandlers();
  client::InformerHandlers ReplicaSetHandlers();
  client::InformerHandlers PodHandlers();
  void OnReplicaSet(const boost::json::object* old, const boost::json::object& rs);
  void OnReplicaSetDeleted(const boost::json::object& rs);
  void OnPodDeleted(const boost::json::object& pod);
  // The cached Deployment `ref` names, if it is the one (same uid).
  std::optional<boost::json::object> Resolve(const std::string& ns, const OwnerRef& ref) const;
  // The keys of the Deployments in the ReplicaSet's namespace that select it.
  std::vector<std::string> DeploymentsSelecting(const boost::json::object& rs) const;

  Result<std::vector<boost::json::object>> ClaimReplicaSets(client::ApiClient& api,
                                                            const boost::json::object& d,
                                                            const api::LabelSelector& selector);
  // For Recreate: the phases of the pods of each claimed ReplicaSet.
  DeploymentSync::PodPhases PodPhases(const boost::json::object& d,
                                      const api::LabelSelector& selector,
                                      const std::vector<boost::json::object>& rss) const;
  // The Deployment selects every pod: refused with an event.
  Status SelectingAll(client::ApiClient& api, const boost::json::object& d);

  client::EventRecorder recorder_;
  NamespaceIndex deployment_index_;
  NamespaceIndex rs_index_;
  NamespaceIndex pod_index_;
  const client::Informer& deployments_;
  const client::Informer& replica_sets_;
  const client::Informer& pods_;
};

}  // namespace berth::controlplane::controllers
