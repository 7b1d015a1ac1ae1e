#pragma once
// The DaemonSet controller (upstream --controllers name "daemonset",
// pkg/controller/daemon): one pod of each DaemonSet on every node it
// fits (daemonset_nodes.h), pinned there by required node affinity for
// the scheduler to bind; pods on nodes it no longer fits, failed or
// succeeded pods, and surplus pods are deleted. Each template is kept as
// a ControllerRevision whose hash labels the pods
// (controller-revision-hash); RollingUpdate replaces outdated pods node
// by node within maxUnavailable, or surges up to maxSurge new pods
// first; OnDelete waits for pods to be deleted. Status counts the nodes
// (desired, current, misscheduled, ready, available, updated). Events:
// SuccessfulCreate, SuccessfulDelete, FailedDaemonPod, SucceededDaemonPod.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/expectations.h"
#include "controlplane/controllers/namespace_index.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/controllers/workload_pods.h"

namespace berth::controlplane::controllers {

class DaemonSetController : public Controller {
 public:
  DaemonSetController(const client::ClientConfig& config, SharedInformers& informers, int workers);
  ~DaemonSetController() override;

 protected:
  // `key`: namespace/name of a DaemonSet.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override;

 private:
  // Claimed pods by the node they are for.
  using NodePods = std::map<std::string, std::vector<boost::json::object>>;
  struct History {
    boost::json::object current;
    std::vector<boost::json::object> old;
    std::string hash;  // the current revision's controller-revision-hash
  };
  struct Counts {
    int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
  };

  client::InformerHandlers DaemonSetHandlers();
  client::InformerHandlers PodHandlers();
  client::InformerHandlers NodeHandlers();
  client::InformerHandlers RevisionHandlers();
  // The DaemonSet key of the pod's controller when it is a cached one.
  std::string OwnerKey(const boost::json::object& obj) const;
  // Orphans: every DaemonSet in the pod's namespace whose selector matches.
  void QueueMatching(const boost::json::object& pod);
  void OnPodChanged(const boost::json::object* old, const boost::json::object& pod);

  std::vector<boost::json::object> Nodes() const;
  // The DaemonSet's pods (claimed: adopting and releasing as needed),
  // grouped by node.
  Result<NodePods> NodeToDaemonPods(client::ApiClient& api, const boost::json::object& ds);
  // Reads them again from the cache, after changes, for the status.
  NodePods CachedNodePods(const boost::json::object& ds) const;

  Status Manage(client::ApiClient& api, const boost::json::object& ds,
                const std::vector<boost::json::object>& nodes, const NodePods& pods,
                const std::string& hash);
  // podsShouldBeOnNode: the node needs a pod (`create`), pods to delete.
  void PodsShouldBeOnNode(const boost::json::object& ds, const boost::json::object& node,
                          const NodePods& pods, const std::string& hash, bool& create,
                          std::vector<std::string>& deletions);
  Status SyncNodes(client::ApiClient& api, const boost::json::object& ds,
                   const std::vector<std::string>& deletions,
                   const std::vector<std::string>& creations, const std::string& hash);
  Status UpdateStatus(client::ApiClient& api, const boost::json::object& ds,
                      const std::vector<boost::json::object>& nodes, const std::string& hash,
                      bool observed_generation);
  Counts Count(const boost::json::object& ds, const std::vector<boost::json::object>& nodes,
               const NodePods& pods, const std::string& hash) const;

  // daemonset_rollout.cc: revisions and rolling updates.
  Result<History> ConstructHistory(client::ApiClient& api, const boost::json::object& ds);
  Result<boost::json::object> Snapshot(client::ApiClient& api, const boost::json::object& ds,
                                       int64_t revision);
  Result<boost::json::object> DedupCurrent(client::ApiClient& api, const boost::json::object& ds,
                                           std::vector<boost::json::object> current);
  Status CleanupHistory(client::ApiClient& api, const boost::json::object& ds,
                        const std::vector<boost::json::object>& old, const NodePods& pods);
  Status RollingUpdate(client::ApiClient& api, const boost::json::object& ds,
                       const std::vector<boost::json::object>& nodes, NodePods pods,
                       const std::string& hash);

  // Upstream's failedPodsBackoff (1 s doubling to 15 min) for deleting
  // failed pods, by DaemonSet uid, generation and node.
  struct Backoff {
    std::chrono::steady_clock::duration delay;
    std::chrono::steady_clock::time_point updated;
  };
  // The remaining delay when in backoff; zero otherwise (and then the
  // next delay is counted).
  std::chrono::steady_clock::duration FailedPodBackoff(const std::string& key);

  client::EventRecorder events_;
  PodControl pod_control_;
  // Upstream sets both counts at once (SetExpectations); expectations.h
  // records one kind per key, so one of each.
  Expectations creations_;
  Expectations deletions_;
  std::mutex backoff_mu_;
  std::map<std::string, Backoff> backoff_;
  NamespaceIndex pod_index_;  // the pods informer's, kept by PodHandlers
  // Last: their handlers use the members above, and the pods' and
  // nodes' handlers read the DaemonSets' informer.
  const client::Informer& daemonsets_;
  const client::Informer& revisions_;
  const client::Informer& nodes_;
  const client::Informer& pods_;
};

// --- shared with the rollout code

inline constexpr OwnerKind kDaemonSetKind{"apps/v1", "DaemonSet"};
inline constexpr char kRevisionHashLabel[] = "controller-revision-hash";
inline constexpr char kTemplateGenerationLabel[] = "pod-template-generation";
inline constexpr char kTemplateGenerationAnnotation[] = "deprecated.daemonset.template.generation";

// IsPodUpdated: the pod carries the revision hash (or the template
// generation the DaemonSet's annotation records).
bool IsDaemonPodUpdated(const boost::json::object& pod, const std::string& hash,
                        const boost::json::object& ds);
// RollingUpdate's maxSurge and maxUnavailable for `desired` nodes.
int64_t SurgeCount(const boost::json::object& ds, int64_t desired);
int64_t UnavailableCount(const boost::json::object& ds, int64_t desired);

}  // namespace berth::controlplane::controllers
