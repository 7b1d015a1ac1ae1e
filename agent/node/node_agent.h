#pragma once
// The agent's Node: registration, status and heartbeat Lease, as upstream
// kubelet keeps them (kubelet_node_status.go, nodestatus/setters.go,
// nodelease). It reaches the runtime only through CRI (Version, Status,
// ListImages, ImageFsInfo) and the cluster only through the API client.
//
//   NodeAgent node(api, cri, options);
//   BERTH_TRY(node.Register());  // optional: Start() registers too, retrying
//   node.Start();
//   ... node.Allocatable(), node.Poke() ...
//   node.Stop();

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/config/eviction.h"
#include "agent/config/kubelet_config.h"
#include "agent/cri/cri_client.h"
#include "agent/node/machine_info.h"
#include "agent/node/node_lease.h"
#include "agent/node/version.h"
#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/event_recorder.h"

namespace berth::agent {

struct NodeOptions {
  std::string node_name;                      // NodeHostname(--hostname-override)
  std::map<std::string, std::string> labels;  // --node-labels (at registration)
  boost::json::array taints;                  // --register-with-taints (at registration)
  // --node-ip (ParseNodeIps); empty: DefaultNodeIp(node_name), retried
  // on each status update until one is found.
  std::vector<std::string> node_ips;
  // registerNode: false only updates the status of a Node made by others.
  bool register_node = true;
  uint16_t kubelet_port = 10250;  // status.daemonEndpoints.kubeletEndpoint.Port
  // Kept for the network plugin; not written to the Node (upstream uses
  // --pod-cidr only without an apiserver).
  std::string pod_cidr;
  int max_pods = 110;
  std::string root_dir = "/var/lib/berth/kubelet";  // ephemeral-storage and nodefs
  std::map<std::string, std::string> system_reserved;
  std::map<std::string, std::string> kube_reserved;
  std::vector<EvictionThreshold> eviction_hard = DefaultEvictionHard();
  // A pressure condition stays True this long after the signal last
  // crossed its threshold (evictionPressureTransitionPeriod).
  std::chrono::milliseconds pressure_transition_period = std::chrono::minutes(5);
  std::chrono::milliseconds status_update_frequency = std::chrono::seconds(10);
  std::chrono::milliseconds status_report_frequency = std::chrono::minutes(5);
  std::chrono::seconds lease_duration = std::chrono::seconds(40);  // renewed every quarter
  int max_images = 50;                                             // nodeStatusMaxImages; -1: all
  std::string kubelet_version = kKubeletVersion;
  controlplane::client::EventRecorder* events = nullptr;  // node events; null: none
  MachinePaths machine;
  std::function<timespec()> wall_clock;  // for timestamps; null: the real clock
};

// The KubeletConfiguration fields that shape the Node, onto `options`.
void ApplyKubeletConfig(const KubeletConfig& config, NodeOptions& options);

class NodeAgent {
 public:
  // `api`: as upstream's heartbeat client, best one of its own without a
  // client-side rate limit, so that pod traffic cannot delay the Lease.
  NodeAgent(controlplane::client::ApiClient& api, CriClient& cri, NodeOptions options);
  ~NodeAgent();
  NodeAgent(const NodeAgent&) = delete;
  NodeAgent& operator=(const NodeAgent&) = delete;

  // Creates the Node with its status; when it exists already (409), makes
  // the labels and annotation kubelet owns agree (ReconcilePatch) and posts
  // a fresh status. Without register_node, only posts the status of the
  // existing Node. Errors: bad options (--node-ip, reserved quantities),
  // the API refusing or unreachable, no Node without register_node.
  Status Register();
  // The status loop (registering first if needed, with backoff): every
  // status_update_frequency the status is computed and posted when it
  // changed or status_report_frequency has passed; until the node is first
  // Ready the runtime is checked every 100 ms so that Ready is posted at
  // once. And the Lease loop: renewed every lease_duration / 4.
  void Start();
  void Stop();

  // status.capacity and status.allocatable as last computed.
  boost::json::object Capacity() const;
  boost::json::object Allocatable() const;
  std::vector<std::string> NodeIPs() const;
  const std::string& NodeName() const { return options_.node_name; }
  bool Registered() const;
  // Computes and posts the status now (the runtime became ready, images
  // changed, ...).
  void Poke();
  // A check of the agent's own health (upstream's PLEG check): while it
  // returns an error, Ready is False with "<name> is not healthy: <error>".
  // Add before Start.
  void AddHealthCheck(std::string name, std::function<std::optional<std::string>()> check);

 private:
  struct Computed {
    boost::json::object status;
    std::vector<std::string> events;
  };
  Computed ComputeStatus(const boost::json::object& previous);
  // Once: fails on bad options rather than posting a wrong Node.
  Status CheckOptions();
  Status SyncStatus(bool force);
  Status PostCreated(const boost::json::object& created);
  void UpdateRuntimeState();
  std::vector<std::string> RuntimeErrors();
  bool RuntimeReadyNow();
  void RecordEvents(const std::vector<std::string>& reasons);
  timespec Now() const;
  void StatusLoop();
  void LeaseLoop();
  // Waits until `deadline`, Stop or Poke; false when stopping.
  bool Sleep(std::chrono::steady_clock::time_point deadline, bool fast);

  controlplane::client::ApiClient& api_;
  CriClient& cri_;
  const NodeOptions options_;
  NodeLease lease_;
  std::vector<std::pair<std::string, std::function<std::optional<std::string>()>>> health_checks_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool poked_ = false;
  bool registered_ = false;
  std::string node_uid_;
  std::vector<std::string> node_ips_;
  std::optional<Error> options_error_;
  boost::json::object capacity_, allocatable_;
  std::string last_ready_;  // the Ready status last posted
  std::chrono::steady_clock::time_point last_report_{};
  std::chrono::steady_clock::time_point started_{};
  // Runtime state, as upstream's runtimeState.
  std::optional<std::chrono::steady_clock::time_point> last_runtime_sync_;
  std::string runtime_error_, network_error_;
  std::string runtime_version_;  // "<name>://<version>"
  boost::json::array runtime_handlers_;
  std::optional<bool> supplemental_groups_policy_;
  std::optional<std::chrono::steady_clock::time_point> memory_pressure_at_, disk_pressure_at_,
      pid_pressure_at_;
  std::string address_warning_;  // the last one logged

  std::thread status_thread_, lease_thread_;
};

}  // namespace berth::agent
