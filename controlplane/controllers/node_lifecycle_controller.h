#pragma once
// The node lifecycle controller (upstream's "nodelifecycle",
// pkg/controller/nodelifecycle). Every --node-monitor-period it looks at
// each node's health (node_health.h): a node whose kubelet fell silent
// for the grace period has its conditions set Unknown ("Kubelet stopped
// posting node status."), a NodeNotReady event, and its pods marked
// Ready=False. A node whose Ready condition is Unknown or False is queued
// for the NoExecute taint node.kubernetes.io/unreachable or not-ready
// (the taint eviction controller then evicts its pods), at a limited
// rate per zone and not at all while every zone is down
// (zone_taint_queue.h); a node Ready again has them removed. On every
// node change the NoSchedule taints mirroring its conditions (not-ready,
// unreachable, memory-, disk-, pid-pressure, network-unavailable) and
// spec.unschedulable are brought up to date (TaintNodesByCondition).
// Pods bound to a node that is not ready are marked Ready=False too.
// Events (component "node-controller"): RegisteredNode, RemovingNode,
// NodeNotReady on nodes, NodeNotReady on pods.

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/node_health.h"
#include "controlplane/controllers/pods_by_node.h"
#include "controlplane/controllers/shared_informers.h"
#include "controlplane/controllers/zone_taint_queue.h"

namespace berth::controlplane::controllers {

struct NodeLifecycleOptions {
  std::chrono::milliseconds monitor_period{5000};  // --node-monitor-period
  // --node-monitor-grace-period and --node-startup-grace-period.
  HealthGrace grace;
  // --node-eviction-rate and --secondary-node-eviction-rate: nodes per
  // second tainted NoExecute in a healthy zone and in a partially
  // disrupted one of more than --large-cluster-size-threshold nodes
  // (smaller ones: none); --unhealthy-zone-threshold.
  double eviction_rate = 0.1;
  double secondary_eviction_rate = 0.01;
  int large_cluster_size_threshold = 50;
  double unhealthy_zone_threshold = 0.55;
  int workers = 8;  // upstream's nodeUpdateWorkerSize
};

class NodeLifecycleController : public Controller {
 public:
  NodeLifecycleController(client::ClientConfig config, SharedInformers& informers,
                          NodeLifecycleOptions options);
  ~NodeLifecycleController() override;

 protected:
  // Keys: "monitor" (the periodic health pass), "taint" (the NoExecute
  // tainting pass), "node:<name>" (NoSchedule taints), "pod:<ns>/<name>"
  // (a pod newly bound).
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override {
    return nodes_.Synced() && leases_.Synced() && pods_.Synced();
  }

 private:
  client::InformerHandlers NodeHandlers();
  client::InformerHandlers PodHandlers();

  void MonitorNodeHealth(client::ApiClient& api);
  // Assesses the node and writes its status when stale, retrying with a
  // fresh copy on failure; false when it could not (the node is skipped).
  bool UpdateNodeHealth(client::ApiClient& api, boost::json::object& node,
                        HealthAssessment& assessment);
  void ProcessTaintBasedEviction(client::ApiClient& api, const boost::json::object& node,
                                 const std::string& observed);
  void MarkNodeForTainting(const boost::json::object& node, const std::string& status);
  Status MarkNodeAsReachable(client::ApiClient& api, const boost::json::object& node);
  void HandleDisruption(client::ApiClient& api,
                        const std::map<std::string, std::vector<bool>>& zone_ready,
                        const std::map<std::string, boost::json::object>& nodes);
  // The zone's taint queue's rate for `state` (setLimiterInZone); mu_ held.
  void SetLimiterLocked(const std::string& zone, size_t zone_size, ZoneState state);
  ZoneTaintQueue& QueueLocked(const std::string& zone);
  // A zone not seen before gets a state and a fresh queue; mu_ held.
  void AddZoneLocked(const std::string& zone);
  // Taints one queued node as its Ready condition says: done, or retry
  // after a delay.
  std::pair<bool, std::chrono::milliseconds> TaintNode(client::ApiClient& api,
                                                       const std::string& name);

  Status DoNoExecuteTaintingPass(client::ApiClient& api);
  Status DoNoScheduleTaintingPass(client::ApiClient& api, const std::string& name);
  Status ProcessPod(client::ApiClient& api, const std::string& key);
  // Sets Ready=False on the pods (of `node`) that have Ready otherwise.
  Status MarkPodsNotReady(client::ApiClient& api, const std::vector<boost::json::object>& pods,
                          const std::string& node);
  std::vector<boost::json::object> PodsOf(const std::string& node) const;
  void RecordNodeEvent(const std::string& name, const std::string& uid, const std::string& reason,
                       const std::string& message);

  NodeLifecycleOptions options_;
  client::EventRecorder recorder_;
  PodsByNode pods_by_node_;

  std::mutex mu_;
  std::map<std::string, std::string> known_nodes_;  // name -> uid
  std::map<std::string, NodeHealth> health_;
  std::map<std::string, ZoneState> zones_;
  std::map<std::string, ZoneTaintQueue> taint_queues_;  // by zone, never removed
  std::set<std::string> nodes_to_retry_;                // pods still to mark not ready

  // Last: their handlers use the members above.
  const client::Informer& nodes_;
  const client::Informer& leases_;
  const client::Informer& pods_;
};

}  // namespace berth::controlplane::controllers
