#pragma once
// The scheduler's parsed view of pods and nodes: everything the filters
// and scores read, taken out of the JSON once, so that placing a pod
// against a hundred nodes touches no JSON at all.

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "controlplane/scheduler/resources.h"
#include "controlplane/server/api/selectors.h"

namespace berth::controlplane::scheduler {

using Labels = std::map<std::string, std::string>;

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
};

struct Toleration {
  std::string key;      // empty with kExists: tolerates everything
  bool exists = false;  // operator Exists (else Equal)
  std::string value;
  std::string effect;  // empty: every effect
  bool Tolerates(const Taint& taint) const;
};

// A nodeSelectorRequirement (matchExpressions / matchFields).
struct NodeRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist, Gt, Lt
  std::vector<std::string> values;
};
struct NodeSelectorTerm {
  std::vector<NodeRequirement> match_expressions;  // against node labels
  std::vector<NodeRequirement> match_fields;       // metadata.name only, as upstream
};
struct PreferredNodeTerm {
  int32_t weight = 0;
  NodeSelectorTerm term;
};

struct PodAffinityTerm {
  // A term without labelSelector matches no pod (upstream's
  // labels.Nothing()); ParsePod gives it a selector no label set satisfies.
  api::LabelSelector selector;
  // Empty (and no namespaceSelector): the pod's own namespace.
  std::set<std::string> namespaces;
  std::optional<api::LabelSelector> namespace_selector;
  std::string topology_key;
};
struct WeightedPodAffinityTerm {
  int32_t weight = 0;
  PodAffinityTerm term;
};

struct HostPort {
  std::string protocol;  // TCP, UDP, SCTP
  std::string host_ip;   // "0.0.0.0" when unset
  int32_t port = 0;
  auto operator<=>(const HostPort&) const = default;
};

struct PodInfo {
  std::string key;  // namespace/name
  std::string namespace_;
  std::string name;
  std::string uid;
  Labels labels;
  std::string node_name;       // spec.nodeName
  std::string controller_uid;  // ownerReferences[controller=true].uid, "" if none
  Resources requests;
  std::vector<HostPort> host_ports;
  Labels node_selector;
  std::vector<NodeSelectorTerm> required_node_terms;  // ORed; empty: none required
  std::vector<PreferredNodeTerm> preferred_node_terms;
  std::vector<Toleration> tolerations;
  std::vector<PodAffinityTerm> required_affinity;
  std::vector<PodAffinityTerm> required_anti_affinity;
  std::vector<WeightedPodAffinityTerm> preferred_affinity;
  std::vector<WeightedPodAffinityTerm> preferred_anti_affinity;
};

// kInvalidArgument naming the field ("spec.tolerations[1].operator") for a
// malformed pod.
Result<PodInfo> ParsePod(const boost::json::object& pod);

struct NodeInfo {
  std::string name;
  Labels labels;
  bool unschedulable = false;  // spec.unschedulable
  bool ready = false;          // status.conditions Ready == True
  std::vector<Taint> taints;
  Resources allocatable;
  // Pods bound (or assumed) to the node, and what they hold.
  std::map<std::string, std::shared_ptr<const PodInfo>> pods;  // by key
  Resources requested;
  std::multiset<HostPort> used_ports;
  // Also kept by AddPod/RemovePod, for the filters' and scores' fast paths:
  // pods with any pod (anti-)affinity term, pods with a required
  // anti-affinity term and those terms' topology keys (key -> number of
  // terms), and pods requesting no cpu / no memory (scoring counts those at
  // upstream's non-zero defaults, 100m and 200Mi).
  int32_t pods_with_affinity = 0;
  int32_t pods_with_required_anti_affinity = 0;
  std::map<std::string, int32_t> required_anti_affinity_keys;
  int32_t pods_without_cpu_request = 0;
  int32_t pods_without_memory_request = 0;

  void AddPod(std::shared_ptr<const PodInfo> pod);
  void RemovePod(const std::string& key);
};

// kInvalidArgument naming the field for a malformed node. Pods are added
// separately.
Result<NodeInfo> ParseNode(const boost::json::object& node);

}  // namespace berth::controlplane::scheduler
