#include "controlplane/scheduler/plugins.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

namespace berth::controlplane::scheduler {
namespace {

using Op = api::LabelRequirement::Op;

constexpr int64_t kMaxNodeScore = 100;
// Upstream's schedutil.DefaultMilliCPURequest and DefaultMemoryRequest:
// what scoring counts for a pod that requests nothing.
constexpr int64_t kDefaultMilliCpuRequest = 100;
constexpr int64_t kDefaultMemoryRequest = int64_t{200} << 20;

// Plugin weights, as upstream's default profile has them.
constexpr int64_t kLeastAllocatedWeight = 1;
constexpr int64_t kBalancedAllocationWeight = 1;
constexpr int64_t kNodeAffinityWeight = 2;
constexpr int64_t kTaintTolerationWeight = 3;
constexpr int64_t kInterPodAffinityWeight = 2;
constexpr int64_t kSpreadWeight = 2;
// InterPodAffinityArgs.HardPodAffinityWeight: what an existing pod's
// required affinity term matching the incoming pod adds to a domain.
constexpr int64_t kHardPodAffinityWeight = 1;

constexpr std::string_view kReasonUnschedulable = "node(s) were unschedulable";
constexpr std::string_view kReasonNodeName = "node(s) didn't match the requested node name";
constexpr std::string_view kReasonNotReady = "node(s) were not ready";
constexpr std::string_view kReasonNodeAffinity =
    "node(s) didn't match Pod's node affinity/selector";
constexpr std::string_view kReasonNodePorts =
    "node(s) didn't have free ports for the requested pod ports";
constexpr std::string_view kReasonPodAffinity = "node(s) didn't match pod affinity rules";
constexpr std::string_view kReasonPodAntiAffinity = "node(s) didn't match pod anti-affinity rules";
constexpr std::string_view kReasonExistingAntiAffinity =
    "node(s) didn't satisfy existing pods anti-affinity rules";

constexpr std::string_view kBindAllHostIp = "0.0.0.0";

const std::string* LabelValue(const Labels& labels, const std::string& key) {
  auto it = labels.find(key);
  return it == labels.end() ? nullptr : &it->second;
}

bool ParseInt64(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool Contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// ---- label selectors over Labels (api::LabelSelector::Matches reads JSON)

bool MatchesRequirement(const api::LabelRequirement& r, const Labels& labels) {
  const std::string* value = LabelValue(labels, r.key);
  switch (r.op) {
    case Op::kEquals:
    case Op::kIn:
      return value != nullptr && Contains(r.values, *value);
    case Op::kNotEquals:
    case Op::kNotIn:
      return value == nullptr || !Contains(r.values, *value);
    case Op::kExists:
      return value != nullptr;
    case Op::kDoesNotExist:
      return value == nullptr;
    case Op::kGreater:
    case Op::kLess: {
      int64_t have = 0;
      int64_t bound = 0;
      if (value == nullptr || r.values.size() != 1 || !ParseInt64(*value, have) ||
          !ParseInt64(r.values[0], bound)) {
        return false;
      }
      return r.op == Op::kGreater ? have > bound : have < bound;
    }
  }
  return false;
}

bool MatchesSelector(const api::LabelSelector& selector, const Labels& labels) {
  for (const api::LabelRequirement& r : selector.requirements())
    if (!MatchesRequirement(r, labels)) return false;
  return true;
}

// ---- node affinity

bool MatchesNodeRequirement(const NodeRequirement& r, const std::string* value) {
  if (r.op == "In") return value != nullptr && Contains(r.values, *value);
  if (r.op == "NotIn") return value == nullptr || !Contains(r.values, *value);
  if (r.op == "Exists") return value != nullptr;
  if (r.op == "DoesNotExist") return value == nullptr;
  if (r.op == "Gt" || r.op == "Lt") {
    int64_t have = 0;
    int64_t bound = 0;
    if (value == nullptr || r.values.size() != 1 || !ParseInt64(*value, have) ||
        !ParseInt64(r.values[0], bound)) {
      return false;
    }
    return r.op == "Gt" ? have > bound : have < bound;
  }
  return false;
}

// A term with neither expressions nor fields matches no node (upstream's
// nodeaffinity helper).
bool MatchesNodeTerm(const NodeSelectorTerm& term, const NodeInfo& node) {
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const NodeRequirement& r : term.match_expressions)
    if (!MatchesNodeRequirement(r, LabelValue(node.labels, r.key))) return false;
  for (const NodeRequirement& r : term.match_fields) {
    const std::string* value = r.key == "metadata.name" ? &node.name : nullptr;
    if (!MatchesNodeRequirement(r, value)) return false;
  }
  return true;
}

bool MatchesNodeAffinity(const PodInfo& pod, const NodeInfo& node) {
  for (const auto& [key, value] : pod.node_selector) {
    const std::string* have = LabelValue(node.labels, key);
    if (have == nullptr || *have != value) return false;
  }
  if (pod.required_node_terms.empty()) return true;
  return std::any_of(pod.required_node_terms.begin(), pod.required_node_terms.end(),
                     [&](const NodeSelectorTerm& t) { return MatchesNodeTerm(t, node); });
}

// ---- taints

bool Tolerated(const std::vector<Toleration>& tolerations, const Taint& taint) {
  return std::any_of(tolerations.begin(), tolerations.end(),
                     [&](const Toleration& t) { return t.Tolerates(taint); });
}

const Taint* FirstUntoleratedTaint(const PodInfo& pod, const NodeInfo& node) {
  for (const Taint& taint : node.taints) {
    if (taint.effect != "NoSchedule" && taint.effect != "NoExecute") continue;
    if (!Tolerated(pod.tolerations, taint)) return &taint;
  }
  return nullptr;
}

bool ToleratesUnschedulable(const PodInfo& pod) {
  static const Taint unschedulable{"node.kubernetes.io/unschedulable", "", "NoSchedule"};
  return Tolerated(pod.tolerations, unschedulable);
}

// ---- host ports

std::string_view IpOrAll(const std::string& ip) {
  return ip.empty() ? kBindAllHostIp : std::string_view(ip);
}
std::string_view ProtocolOrTcp(const std::string& protocol) {
  return protocol.empty() ? std::string_view("TCP") : std::string_view(protocol);
}

// Upstream's HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every
// address on the same protocol and port.
bool PortConflicts(const NodeInfo& node, const HostPort& want) {
  if (want.port <= 0) return false;
  std::string_view ip = IpOrAll(want.host_ip);
  std::string_view protocol = ProtocolOrTcp(want.protocol);
  for (const HostPort& used : node.used_ports) {
    if (used.port != want.port || ProtocolOrTcp(used.protocol) != protocol) continue;
    std::string_view used_ip = IpOrAll(used.host_ip);
    if (ip == kBindAllHostIp || used_ip == kBindAllHostIp || used_ip == ip) return true;
  }
  return false;
}

// ---- resources

void InsufficientResources(const PodInfo& pod, const NodeInfo& node,
                           std::vector<std::string>& reasons) {
  const Resources& want = pod.requests;
  const Resources& alloc = node.allocatable;
  const Resources& used = node.requested;
  if (static_cast<int64_t>(node.pods.size()) + 1 > alloc.pods)
    reasons.emplace_back("Too many pods");
  if (want.milli_cpu > 0 && want.milli_cpu > alloc.milli_cpu - used.milli_cpu) {
    reasons.emplace_back("Insufficient cpu");
  }
  if (want.memory > 0 && want.memory > alloc.memory - used.memory) {
    reasons.emplace_back("Insufficient memory");
  }
  if (want.ephemeral_storage > 0 &&
      want.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage) {
    reasons.emplace_back("Insufficient ephemeral-storage");
  }
}

// ---- inter-pod affinity

// Whether `target` is selected by `term`, a term of a pod in namespace
// `owner_ns`: target's namespace is listed (none listed and no
// namespaceSelector: the owner's own), or its labels satisfy the
// namespaceSelector; and target's labels satisfy the label selector.
bool TermSelects(const PodAffinityTerm& term, const std::string& owner_ns, const PodInfo& target,
                 const ClusterView& cluster) {
  bool in_namespace = false;
  if (term.namespaces.empty() && !term.namespace_selector) {
    in_namespace = target.namespace_ == owner_ns;
  } else if (term.namespaces.count(target.namespace_) != 0) {
    in_namespace = true;
  } else if (term.namespace_selector) {
    static const Labels kNoLabels;
    auto it = cluster.namespace_labels.find(target.namespace_);
    in_namespace = MatchesSelector(*term.namespace_selector,
                                   it == cluster.namespace_labels.end() ? kNoLabels : it->second);
  }
  return in_namespace && MatchesSelector(term.selector, target.labels);
}

bool SelectedByAll(const std::vector<PodAffinityTerm>& terms, const std::string& owner_ns,
                   const PodInfo& target, const ClusterView& cluster) {
  return std::all_of(terms.begin(), terms.end(), [&](const PodAffinityTerm& t) {
    return TermSelects(t, owner_ns, target, cluster);
  });
}

// Whether `other` lies in the same `key` domain as `node`, whose value for
// `key` is `value`.
bool SameDomain(const NodeInfo& node, const std::string& value, const NodeInfo& other,
                const std::string& key) {
  if (&other == &node) return true;
  const std::string* other_value = LabelValue(other.labels, key);
  return other_value != nullptr && *other_value == value;
}

// Required affinity, as upstream's satisfyPodAffinity: for every term, the
// node's domain of its topology key holds a pod matching all the terms. The
// first pod of a group with affinity to itself passes when no pod anywhere
// matches all the terms and the pod matches them itself. `cluster.nodes`
// is expected to include `node`.
bool SatisfiesPodAffinity(const PodInfo& pod, const NodeInfo& node, const ClusterView& cluster) {
  const std::vector<PodAffinityTerm>& terms = pod.required_affinity;
  std::vector<const std::string*> values;
  values.reserve(terms.size());
  for (const PodAffinityTerm& t : terms) {
    const std::string* value = LabelValue(node.labels, t.topology_key);
    if (value == nullptr) return false;  // every topology label must be on the node
    values.push_back(value);
  }
  auto selected = [&](const PodInfo& p) {
    return SelectedByAll(terms, pod.namespace_, p, cluster);
  };
  bool pods_exist = true;
  for (size_t i = 0; i < terms.size() && pods_exist; ++i) {
    bool found = false;
    for (const NodeInfo* other : cluster.nodes) {
      if (other->pods.empty() || !SameDomain(node, *values[i], *other, terms[i].topology_key)) {
        continue;
      }
      for (const auto& [key, p] : other->pods) {
        if (selected(*p)) {
          found = true;
          break;
        }
      }
      if (found) break;
    }
    pods_exist = found;
  }
  if (pods_exist) return true;
  if (!selected(pod)) return false;
  // Upstream counts only matching pods on nodes carrying one of the keys.
  for (const NodeInfo* other : cluster.nodes) {
    bool keyed = std::any_of(terms.begin(), terms.end(), [&](const PodAffinityTerm& t) {
      return LabelValue(other->labels, t.topology_key) != nullptr;
    });
    if (!keyed) continue;
    for (const auto& [key, p] : other->pods)
      if (selected(*p)) return false;
  }
  return true;
}

// Required anti-affinity: no pod a term selects in the node's domain of
// the term's topology key.
bool SatisfiesPodAntiAffinity(const PodInfo& pod, const NodeInfo& node,
                              const ClusterView& cluster) {
  for (const PodAffinityTerm& t : pod.required_anti_affinity) {
    const std::string* value = LabelValue(node.labels, t.topology_key);
    if (value == nullptr) continue;
    for (const NodeInfo* other : cluster.nodes) {
      if (other->pods.empty() || !SameDomain(node, *value, *other, t.topology_key)) continue;
      for (const auto& [key, p] : other->pods)
        if (TermSelects(t, pod.namespace_, *p, cluster)) return false;
    }
  }
  return true;
}

// Whether `node` shares `other`'s domain of the topology key of some
// required anti-affinity term of a pod on `other`.
bool InAntiAffinityDomain(const NodeInfo& node, const NodeInfo& other) {
  for (const auto& [key, count] : other.required_anti_affinity_keys) {
    const std::string* value = LabelValue(other.labels, key);
    if (value != nullptr && SameDomain(other, *value, node, key)) return true;
  }
  return false;
}

// No pod already placed has a required anti-affinity term that selects
// the incoming pod, with the node in that pod's domain.
bool SatisfiesExistingAntiAffinity(const PodInfo& pod, const NodeInfo& node,
                                   const ClusterView& cluster) {
  for (const NodeInfo* other : cluster.nodes) {
    if (other->pods_with_required_anti_affinity == 0 || !InAntiAffinityDomain(node, *other)) {
      continue;
    }
    for (const auto& [key, p] : other->pods) {
      for (const PodAffinityTerm& t : p->required_anti_affinity) {
        const std::string* value = LabelValue(other->labels, t.topology_key);
        if (value == nullptr || !SameDomain(*other, *value, node, t.topology_key)) continue;
        if (TermSelects(t, p->namespace_, pod, cluster)) return false;
      }
    }
  }
  return true;
}

const std::string_view* InterPodAffinityReason(const PodInfo& pod, const NodeInfo& node,
                                               const ClusterView& cluster) {
  if (!pod.required_affinity.empty() && !SatisfiesPodAffinity(pod, node, cluster)) {
    return &kReasonPodAffinity;
  }
  if (!pod.required_anti_affinity.empty() && !SatisfiesPodAntiAffinity(pod, node, cluster)) {
    return &kReasonPodAntiAffinity;
  }
  if (!SatisfiesExistingAntiAffinity(pod, node, cluster)) return &kReasonExistingAntiAffinity;
  return nullptr;
}

// ---- scores

// Upstream's helper.DefaultNormalizeScore: scale to 0..100 by the maximum,
// reversed when fewer is better.
void DefaultNormalizeScore(std::vector<int64_t>& scores, bool reverse) {
  int64_t max = 0;
  for (int64_t s : scores)
    max = std::max(max, s);
  for (int64_t& s : scores) {
    if (max == 0) {
      s = reverse ? kMaxNodeScore : s;
      continue;
    }
    s = kMaxNodeScore * s / max;
    if (reverse) s = kMaxNodeScore - s;
  }
}

int64_t LeastRequestedScore(int64_t requested, int64_t capacity) {
  if (capacity == 0 || requested > capacity) return 0;
  return (capacity - requested) * kMaxNodeScore / capacity;
}

// NodeResourcesFit's LeastAllocated over cpu and memory, weighted alike,
// counting pods that request nothing at the non-zero defaults.
int64_t LeastAllocatedScore(const PodInfo& pod, const NodeInfo& node) {
  int64_t pod_cpu = pod.requests.milli_cpu != 0 ? pod.requests.milli_cpu : kDefaultMilliCpuRequest;
  int64_t pod_memory = pod.requests.memory != 0 ? pod.requests.memory : kDefaultMemoryRequest;
  int64_t cpu = node.requested.milli_cpu +
                int64_t{node.pods_without_cpu_request} * kDefaultMilliCpuRequest + pod_cpu;
  int64_t memory = node.requested.memory +
                   int64_t{node.pods_without_memory_request} * kDefaultMemoryRequest + pod_memory;
  int64_t sum = 0;
  int64_t count = 0;
  if (node.allocatable.milli_cpu != 0) {
    sum += LeastRequestedScore(cpu, node.allocatable.milli_cpu);
    ++count;
  }
  if (node.allocatable.memory != 0) {
    sum += LeastRequestedScore(memory, node.allocatable.memory);
    ++count;
  }
  return count == 0 ? 0 : sum / count;
}

// NodeResourcesBalancedAllocation: 100 * (1 - the standard deviation of the
// cpu and memory fractions), from actual requests.
int64_t BalancedAllocationScore(const PodInfo& pod, const NodeInfo& node) {
  double fractions[2];
  int count = 0;
  auto add = [&](int64_t requested, int64_t allocatable) {
    if (allocatable == 0) return;
    double fraction = static_cast<double>(requested) / static_cast<double>(allocatable);
    fractions[count++] = std::min(fraction, 1.0);
  };
  add(node.requested.milli_cpu + pod.requests.milli_cpu, node.allocatable.milli_cpu);
  add(node.requested.memory + pod.requests.memory, node.allocatable.memory);
  double std_dev = count == 2 ? std::abs((fractions[0] - fractions[1]) / 2) : 0.0;
  return static_cast<int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore));
}

int64_t NodeAffinityScore(const PodInfo& pod, const NodeInfo& node) {
  int64_t score = 0;
  for (const PreferredNodeTerm& t : pod.preferred_node_terms)
    if (t.weight != 0 && MatchesNodeTerm(t.term, node)) score += t.weight;
  return score;
}

int64_t IntolerablePreferNoScheduleTaints(const PodInfo& pod, const NodeInfo& node) {
  int64_t count = 0;
  for (const Taint& taint : node.taints) {
    if (taint.effect != "PreferNoSchedule") continue;
    // Tolerations with another effect than PreferNoSchedule (or every
    // effect) do not count, as upstream's getAllTolerationPreferNoSchedule.
    bool tolerated =
        std::any_of(pod.tolerations.begin(), pod.tolerations.end(), [&](const Toleration& t) {
          return (t.effect.empty() || t.effect == "PreferNoSchedule") && t.Tolerates(taint);
        });
    if (!tolerated) ++count;
  }
  return count;
}

// Scores by topology domain: key -> value -> score, as upstream's
// InterPodAffinity PreScore builds them. Values are views into the nodes'
// labels, which outlive a ScoreNodes call.
using TopologyScores = std::map<std::string, std::map<std::string_view, int64_t>>;

void AddToDomain(TopologyScores& scores, const NodeInfo& node, const std::string& key,
                 int64_t delta) {
  if (const std::string* value = LabelValue(node.labels, key)) scores[key][*value] += delta;
}

// Contributions of one existing pod on `node` (upstream's processExistingPod).
void ScoreExistingPod(const PodInfo& pod, const PodInfo& existing, const NodeInfo& node,
                      const ClusterView& cluster, TopologyScores& scores) {
  for (const WeightedPodAffinityTerm& w : pod.preferred_affinity) {
    if (TermSelects(w.term, pod.namespace_, existing, cluster)) {
      AddToDomain(scores, node, w.term.topology_key, w.weight);
    }
  }
  for (const WeightedPodAffinityTerm& w : pod.preferred_anti_affinity) {
    if (TermSelects(w.term, pod.namespace_, existing, cluster)) {
      AddToDomain(scores, node, w.term.topology_key, -int64_t{w.weight});
    }
  }
  for (const PodAffinityTerm& t : existing.required_affinity) {
    if (TermSelects(t, existing.namespace_, pod, cluster)) {
      AddToDomain(scores, node, t.topology_key, kHardPodAffinityWeight);
    }
  }
  for (const WeightedPodAffinityTerm& w : existing.preferred_affinity) {
    if (TermSelects(w.term, existing.namespace_, pod, cluster)) {
      AddToDomain(scores, node, w.term.topology_key, w.weight);
    }
  }
  for (const WeightedPodAffinityTerm& w : existing.preferred_anti_affinity) {
    if (TermSelects(w.term, existing.namespace_, pod, cluster)) {
      AddToDomain(scores, node, w.term.topology_key, -int64_t{w.weight});
    }
  }
}

// InterPodAffinity's normalised scores into `out`; false (and `out`
// untouched) when no domain scored, where upstream skips the plugin.
bool InterPodAffinityScores(const PodInfo& pod, const std::vector<const NodeInfo*>& feasible,
                            const ClusterView& cluster, std::vector<int64_t>& out) {
  bool has_preferred = !pod.preferred_affinity.empty() || !pod.preferred_anti_affinity.empty();
  TopologyScores domains;
  for (const NodeInfo* node : cluster.nodes) {
    // Without preferred terms of its own, only pods with terms can score.
    if (!has_preferred && node->pods_with_affinity == 0) continue;
    if (node->labels.empty()) continue;
    for (const auto& [key, existing] : node->pods) {
      if (existing->key == pod.key) continue;
      ScoreExistingPod(pod, *existing, *node, cluster, domains);
    }
  }
  if (domains.empty()) return false;
  int64_t min = std::numeric_limits<int64_t>::max();
  int64_t max = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < feasible.size(); ++i) {
    int64_t score = 0;
    for (const auto& [key, values] : domains) {
      auto label = feasible[i]->labels.find(key);
      if (label == feasible[i]->labels.end()) continue;
      if (auto it = values.find(label->second); it != values.end()) score += it->second;
    }
    out[i] = score;
    min = std::min(min, score);
    max = std::max(max, score);
  }
  for (int64_t& score : out) {
    double scaled = 0;
    if (max > min) {
      scaled = static_cast<double>(kMaxNodeScore) *
               (static_cast<double>(score - min) / static_cast<double>(max - min));
    }
    score = static_cast<int64_t>(scaled);
  }
  return true;
}

// Spreading of a controller's pods (upstream's former SelectorSpread, by
// node): fewer of the pod's siblings on a node score higher.
void SpreadScores(const PodInfo& pod, const std::vector<const NodeInfo*>& feasible,
                  std::vector<int64_t>& out) {
  int64_t max = 0;
  for (size_t i = 0; i < feasible.size(); ++i) {
    int64_t count = 0;
    for (const auto& [key, p] : feasible[i]->pods) {
      if (p->controller_uid == pod.controller_uid && p->namespace_ == pod.namespace_ &&
          p->key != pod.key) {
        ++count;
      }
    }
    out[i] = count;
    max = std::max(max, count);
  }
  for (int64_t& score : out) {
    double scaled = static_cast<double>(kMaxNodeScore);
    if (max > 0) {
      scaled = static_cast<double>(kMaxNodeScore) *
               (static_cast<double>(max - score) / static_cast<double>(max));
    }
    score = static_cast<int64_t>(scaled);
  }
}

void AddWeighted(std::vector<int64_t>& total, const std::vector<int64_t>& scores, int64_t weight) {
  for (size_t i = 0; i < total.size(); ++i)
    total[i] += scores[i] * weight;
}

}  // namespace

std::vector<std::string> FilterNode(const PodInfo& pod, const NodeInfo& node,
                                    const ClusterView& cluster) {
  if (node.unschedulable && !ToleratesUnschedulable(pod)) {
    return {std::string(kReasonUnschedulable)};
  }
  if (!pod.node_name.empty() && pod.node_name != node.name) return {std::string(kReasonNodeName)};
  if (!node.ready) return {std::string(kReasonNotReady)};
  if (const Taint* taint = FirstUntoleratedTaint(pod, node)) {
    return {"node(s) had untolerated taint {" + taint->key + ": " + taint->value + "}"};
  }
  if (!MatchesNodeAffinity(pod, node)) return {std::string(kReasonNodeAffinity)};
  for (const HostPort& port : pod.host_ports)
    if (PortConflicts(node, port)) return {std::string(kReasonNodePorts)};
  std::vector<std::string> reasons;
  InsufficientResources(pod, node, reasons);
  if (!reasons.empty()) return reasons;
  if (const std::string_view* reason = InterPodAffinityReason(pod, node, cluster)) {
    return {std::string(*reason)};
  }
  return {};
}

std::vector<int64_t> ScoreNodes(const PodInfo& pod, const std::vector<const NodeInfo*>& feasible,
                                const ClusterView& cluster) {
  const size_t n = feasible.size();
  std::vector<int64_t> total(n, 0);
  std::vector<int64_t> scores(n, 0);

  for (size_t i = 0; i < n; ++i)
    total[i] += kLeastAllocatedWeight * LeastAllocatedScore(pod, *feasible[i]);

  // Skipped for best-effort pods, as upstream (kubernetes#129138).
  if (pod.requests.milli_cpu != 0 || pod.requests.memory != 0) {
    for (size_t i = 0; i < n; ++i)
      total[i] += kBalancedAllocationWeight * BalancedAllocationScore(pod, *feasible[i]);
  }

  if (!pod.preferred_node_terms.empty()) {
    for (size_t i = 0; i < n; ++i)
      scores[i] = NodeAffinityScore(pod, *feasible[i]);
    DefaultNormalizeScore(scores, false);
    AddWeighted(total, scores, kNodeAffinityWeight);
  }

  for (size_t i = 0; i < n; ++i)
    scores[i] = IntolerablePreferNoScheduleTaints(pod, *feasible[i]);
  DefaultNormalizeScore(scores, true);
  AddWeighted(total, scores, kTaintTolerationWeight);

  if (InterPodAffinityScores(pod, feasible, cluster, scores)) {
    AddWeighted(total, scores, kInterPodAffinityWeight);
  }

  if (!pod.controller_uid.empty()) {
    SpreadScores(pod, feasible, scores);
    AddWeighted(total, scores, kSpreadWeight);
  }
  return total;
}

std::string FailureMessage(size_t node_count, const std::map<std::string, int>& reasons) {
  if (node_count == 0 && reasons.empty()) return "no nodes available to schedule pods";
  // Upstream sorts the printed "<count> <reason>" strings.
  std::vector<std::string> parts;
  parts.reserve(reasons.size());
  for (const auto& [reason, count] : reasons)
    parts.push_back(std::to_string(count) + " " + reason);
  std::sort(parts.begin(), parts.end());
  std::string out = "0/" + std::to_string(node_count) + " nodes are available";
  if (parts.empty()) return out + ".";
  out += ": ";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += ", ";
    out += parts[i];
  }
  return out + ".";
}

}  // namespace berth::controlplane::scheduler
