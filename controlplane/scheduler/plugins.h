#pragma once
// The scheduling decisions proper, as upstream's default plugins make
// them. Filters say why a node cannot take a pod; scores rank the nodes
// that can.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controlplane/scheduler/node_info.h"

namespace berth::controlplane::scheduler {

// What the filters see besides the pod and the node: every node (pod
// affinity looks across a topology domain) and namespace labels (for
// namespaceSelector).
struct ClusterView {
  std::vector<const NodeInfo*> nodes;
  std::map<std::string, Labels> namespace_labels;
};

// The reasons `node` cannot take `pod`, in upstream's words; empty when it
// fits. Filters, in order: NodeUnschedulable ("node(s) were
// unschedulable"), NodeName ("node(s) didn't match the requested node
// name"), node Ready ("node(s) were not ready"), TaintToleration
// ("node(s) had untolerated taint {key: value}", NoSchedule and NoExecute),
// NodeAffinity incl. nodeSelector ("node(s) didn't match Pod's node
// affinity/selector"), NodePorts ("node(s) didn't have free ports for the
// requested pod ports"), NodeResourcesFit ("Insufficient cpu",
// "Insufficient memory", "Insufficient ephemeral-storage", "Too many pods";
// all that apply), InterPodAffinity ("node(s) didn't match pod affinity
// rules", "node(s) didn't match pod anti-affinity rules", and for the
// anti-affinity of pods already placed "node(s) didn't satisfy existing
// pods anti-affinity rules"). Stops at the first filter that rejects,
// like upstream's framework, except that NodeResourcesFit reports every
// insufficient resource.
std::vector<std::string> FilterNode(const PodInfo& pod, const NodeInfo& node,
                                    const ClusterView& cluster);

// Weighted total scores of `feasible` nodes (same order), upstream's
// defaults: NodeResourcesFit LeastAllocated (cpu and memory, weight 1),
// NodeResourcesBalancedAllocation (1), NodeAffinity preferred terms (2),
// TaintToleration PreferNoSchedule (3), InterPodAffinity preferred terms
// (2), and spreading of pods with the same controller across nodes (2).
// Each plugin's score is normalised to 0..100 before weighting.
std::vector<int64_t> ScoreNodes(const PodInfo& pod, const std::vector<const NodeInfo*>& feasible,
                                const ClusterView& cluster);

// "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated
// taint {dedicated: gpu}." from reason -> number of nodes with it; the
// "<count> <reason>" strings sorted as strings, as upstream's FitError
// sorts them.
std::string FailureMessage(size_t node_count, const std::map<std::string, int>& reasons);

}  // namespace berth::controlplane::scheduler
