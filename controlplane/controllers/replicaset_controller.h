#pragma once
// The ReplicaSet controller, as upstream's (pkg/controller/replicaset):
// each ReplicaSet keeps spec.replicas active pods that match its selector
// and that it controls (ownerReferences controller=true,
// blockOwnerDeletion=true).
//
//   - Claiming: matching orphans are adopted, controlled pods that no
//     longer match are released (controller_ref.h). Pods that finished
//     (Succeeded, Failed) or are being deleted do not count.
//   - Too few: pods are made from spec.template (generateName
//     "<replicaset>-", the template's labels and annotations), in slow-start
//     batches of 1, 2, 4... that stop at the first failure; at most 500 per
//     sync (upstream's burstReplicas).
//   - Too many: the surplus is deleted in pod_ranking.h's order.
//   - Expectations (expectations.h): after creating or deleting, the
//     ReplicaSet is not managed again until its informer saw those pods
//     come or go, so a lagging cache causes no double creations.
//   - Status: replicas, fullyLabeledReplicas, readyReplicas,
//     availableReplicas, observedGeneration, and the ReplicaFailure
//     condition; a ReplicaSet with minReadySeconds is looked at again once
//     its Ready pods may have become available.
//   - Events (component "replicaset-controller"): SuccessfulCreate
//     "Created pod: <name>", FailedCreate "Error creating: <why>",
//     SuccessfulDelete "Deleted pod: <name>", FailedDelete "Error
//     deleting: <why>".
//
// Creations within a batch are made one after another on the worker's
// connection (upstream makes them concurrently).

#include <optional>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/expectations.h"
#include "controlplane/controllers/namespace_index.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

class ReplicaSetController : public Controller {
 public:
  ReplicaSetController(const client::ClientConfig& config, SharedInformers& informers, int workers);
  ~ReplicaSetController() override;

 protected:
  // `key`: namespace/name of a ReplicaSet.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return replica_sets_.Synced() && pods_.Synced(); }

 private:
  client::InformerHandlers ReplicaSetHandlers();
  client::InformerHandlers PodHandlers();
  void OnPodAdded(const boost::json::object& pod);
  void OnPodUpdated(const boost::json::object& old, const boost::json::object& pod);
  void OnPodDeleted(const boost::json::object& pod);
  // The cached ReplicaSet `ref` names, if it is the one (same uid).
  std::optional<boost::json::object> Resolve(const std::string& ns, const OwnerRef& ref) const;
  // The keys of the ReplicaSets in the pod's namespace that select it.
  std::vector<std::string> ReplicaSetsSelecting(const boost::json::object& pod) const;

  // replicaset_replicas.cc: creating and deleting pods.
  Status ManageReplicas(client::ApiClient& api, const std::vector<boost::json::object>& pods,
                        const boost::json::object& rs, const std::string& key);
  Status CreatePods(client::ApiClient& api, const boost::json::object& rs, const std::string& key,
                    int64_t count);
  Status DeletePods(client::ApiClient& api, const boost::json::object& rs, const std::string& key,
                    const std::vector<boost::json::object>& pods);
  // Pods of the ReplicaSets under the same controller as `rs` (its
  // siblings in a Deployment), for ranking by node.
  std::vector<boost::json::object> RelatedPods(const boost::json::object& rs) const;
  // PUTs the status when it changed (one retry on a fresher copy); the
  // ReplicaSet as stored afterwards.
  Result<boost::json::object> UpdateStatus(client::ApiClient& api, const boost::json::object& rs,
                                           const boost::json::object& status);

  client::EventRecorder recorder_;
  Expectations expectations_;
  NamespaceIndex rs_index_;
  NamespaceIndex pod_index_;
  const client::Informer& replica_sets_;
  const client::Informer& pods_;
};

}  // namespace berth::controlplane::controllers
