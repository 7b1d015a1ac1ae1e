#pragma once
// The StatefulSet controller (upstream --controllers name "statefulset",
// pkg/controller/statefulset): pods <set>-0 .. <set>-(replicas-1) with
// stable identities (statefulset_pods.h), each one's
// PersistentVolumeClaims made before it. With podManagementPolicy
// OrderedReady a pod is made only when every lower one is Running and
// Ready (and available), and scale-down removes the highest ordinal
// first, one at a time; Parallel makes and removes them all at once. A
// failed or succeeded pod is deleted and made again. Templates are kept
// as ControllerRevisions (controller-revision-hash = the revision's
// name); RollingUpdate replaces pods from the highest ordinal down to
// spec.updateStrategy.rollingUpdate.partition, one at a time, each once
// the others are healthy; OnDelete waits for pods to be deleted. Status:
// replicas, readyReplicas, availableReplicas, currentReplicas,
// updatedReplicas, currentRevision, updateRevision, collisionCount,
// observedGeneration. Events, as upstream words them: SuccessfulCreate
// "create Pod web-0 in StatefulSet web successful", SuccessfulDelete,
// "create Claim ... success", RecreatingFailedPod.
//
// Not done: persistentVolumeClaimRetentionPolicy (claims are always
// kept, as with Retain), maxUnavailable (an alpha feature upstream), and
// adopting orphaned ControllerRevisions.

#include <optional>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/namespace_index.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/controllers/workload_pods.h"

namespace berth::controlplane::controllers {

class StatefulSetController : public Controller {
 public:
  StatefulSetController(const client::ClientConfig& config, SharedInformers& informers,
                        int workers);
  ~StatefulSetController() override;

 protected:
  // `key`: namespace/name of a StatefulSet.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override;

 private:
  struct Revisions {
    boost::json::object current, update;
    int64_t collision_count = 0;
  };
  struct SetStatus {
    int64_t observed_generation = 0;
    int64_t replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
    std::string current_revision, update_revision;
    int64_t collision_count = 0;
  };
  // One sync's view of the set (the current and update revisions applied).
  struct Context {
    boost::json::object set, current_set, update_set;
    std::string current_revision, update_revision;
    bool monotonic = true;  // OrderedReady
    int64_t min_ready = 0;
  };

  client::InformerHandlers SetHandlers();
  client::InformerHandlers PodHandlers();
  std::string OwnerKey(const boost::json::object& pod) const;
  void QueueMatching(const boost::json::object& pod);

  // getStatefulSetRevisions: the current and update revisions, the
  // update one made (or renumbered) as needed.
  Result<Revisions> GetRevisions(client::ApiClient& api, const boost::json::object& set,
                                 const std::vector<boost::json::object>& revisions);
  Result<boost::json::object> CreateRevisionFor(client::ApiClient& api,
                                                const boost::json::object& set,
                                                const boost::json::object& revision,
                                                int64_t& collision_count);
  Status TruncateHistory(client::ApiClient& api, const boost::json::object& set,
                         const std::vector<boost::json::object>& pods,
                         const std::vector<boost::json::object>& revisions, const Revisions& live);
  Status UpdateStatus(client::ApiClient& api, const boost::json::object& set, SetStatus status);

  // statefulset_update.cc: updateStatefulSet and what it calls. `status`
  // is filled in even when an error stops it.
  Status UpdateStatefulSet(client::ApiClient& api, const Context& ctx,
                           const std::vector<boost::json::object>& pods, SetStatus& status);
  // processReplica / processCondemned: true when this sync must stop.
  Result<bool> ProcessReplica(client::ApiClient& api, const Context& ctx,
                              std::vector<boost::json::object>& replicas, size_t i);
  Result<bool> ProcessCondemned(client::ApiClient& api, const Context& ctx,
                                const std::vector<boost::json::object>& condemned, size_t i,
                                const std::string& first_unhealthy);
  // newVersionedStatefulSetPod: below the partition at the current
  // revision, else at the update revision.
  boost::json::object NewVersionedPod(const Context& ctx, int64_t ordinal) const;
  Status CreateStatefulPod(client::ApiClient& api, const boost::json::object& set,
                           const boost::json::object& pod);
  Status DeleteStatefulPod(client::ApiClient& api, const boost::json::object& set,
                           const boost::json::object& pod);
  Status UpdateStatefulPod(client::ApiClient& api, const boost::json::object& set,
                           boost::json::object pod);
  Status CreateClaims(client::ApiClient& api, const boost::json::object& set,
                      const boost::json::object& pod);
  void RecordPodEvent(const char* verb, const boost::json::object& set,
                      const boost::json::object& pod, const Status& result);

  client::EventRecorder events_;
  NamespaceIndex pod_index_;  // the pods informer's, kept by PodHandlers
  // Last: their handlers use the members above; the pods' read the sets'.
  const client::Informer& sets_;
  const client::Informer& revisions_;
  const client::Informer& claims_;
  const client::Informer& pods_;
};

inline constexpr OwnerKind kStatefulSetKind{"apps/v1", "StatefulSet"};

}  // namespace berth::controlplane::controllers
