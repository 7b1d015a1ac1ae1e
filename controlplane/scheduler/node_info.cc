#include "controlplane/scheduler/node_info.h"

#include <utility>

#include "common/json.h"

namespace berth::controlplane::scheduler {
namespace {

namespace bj = boost::json;
using json::Field;

constexpr std::string_view kBindAllHostIp = "0.0.0.0";

// What a term without labelSelector selects: nothing, as upstream's
// metav1.LabelSelectorAsSelector(nil) = labels.Nothing(). A key required
// both to exist and not to exist says so without a special case.
const api::LabelSelector& NothingSelector() {
  static const api::LabelSelector nothing =
      api::LabelSelector::Parse("scheduler.berth.io/nil,!scheduler.berth.io/nil").value();
  return nothing;
}

Result<Labels> ReadLabels(const Field& f) {
  Labels out;
  for (auto& [key, value] : BERTH_TRY(f.StringMap()))
    out.emplace(std::move(key), std::move(value));
  return out;
}

Error Unsupported(const Field& f, const std::string& value, std::string_view supported) {
  return f.Invalid("Unsupported value: \"" + value +
                   "\": supported values: " + std::string(supported));
}

Result<NodeRequirement> ParseNodeRequirement(const Field& f, bool is_field) {
  BERTH_TRY(f.ExpectObject());
  NodeRequirement r;
  r.key = BERTH_TRY(f["key"].String());
  r.op = BERTH_TRY(f["operator"].String());
  r.values = BERTH_TRY(f["values"].StringArray());
  if (is_field) {
    // Validation allows metadata.name only, with In or NotIn and one value.
    if (r.key != "metadata.name") {
      return f["key"].Invalid("Invalid value: \"" + r.key + "\": not a valid field selector key");
    }
    if (r.op != "In" && r.op != "NotIn")
      return Unsupported(f["operator"], r.op, "\"In\", \"NotIn\"");
    if (r.values.size() != 1) {
      return f["values"].Invalid(
          "Required value: must be only one value when `operator` is 'In' or 'NotIn' for node "
          "field selector");
    }
    return r;
  }
  if (r.op == "In" || r.op == "NotIn") {
    if (r.values.empty()) {
      return f["values"].Invalid(
          "Required value: must be specified when `operator` is 'In' or 'NotIn'");
    }
  } else if (r.op == "Exists" || r.op == "DoesNotExist") {
    if (!r.values.empty()) {
      return f["values"].Invalid(
          "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    }
  } else if (r.op == "Gt" || r.op == "Lt") {
    // A value that is no integer passes validation and then matches no node,
    // as upstream; FilterNode sees to that.
    if (r.values.size() != 1) {
      return f["values"].Invalid(
          "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'");
    }
  } else {
    return Unsupported(f["operator"], r.op,
                       "\"DoesNotExist\", \"Exists\", \"Gt\", \"In\", \"Lt\", \"NotIn\"");
  }
  return r;
}

Result<NodeSelectorTerm> ParseNodeSelectorTerm(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  NodeSelectorTerm term;
  for (const Field& e : BERTH_TRY(f["matchExpressions"].Items()))
    term.match_expressions.push_back(BERTH_TRY(ParseNodeRequirement(e, false)));
  for (const Field& e : BERTH_TRY(f["matchFields"].Items()))
    term.match_fields.push_back(BERTH_TRY(ParseNodeRequirement(e, true)));
  return term;
}

Result<int32_t> ParseWeight(const Field& f) {
  auto weight = BERTH_TRY(f.Int<int32_t>());
  if (weight < 1 || weight > 100) {
    return f.Invalid("Invalid value: " + std::to_string(weight) + ": must be in the range 1-100");
  }
  return weight;
}

Result<PodAffinityTerm> ParsePodAffinityTerm(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  PodAffinityTerm term;
  Field selector = f["labelSelector"];
  term.selector = selector.present()
                      ? BERTH_TRY(api::LabelSelector::FromJson(*selector.raw(), selector.path()))
                      : NothingSelector();
  for (std::string& ns : BERTH_TRY(f["namespaces"].StringArray()))
    term.namespaces.insert(std::move(ns));
  if (Field ns_selector = f["namespaceSelector"]; ns_selector.present()) {
    term.namespace_selector =
        BERTH_TRY(api::LabelSelector::FromJson(*ns_selector.raw(), ns_selector.path()));
  }
  term.topology_key = BERTH_TRY(f["topologyKey"].OptString()).value_or("");
  if (term.topology_key.empty())
    return f["topologyKey"].Invalid("Required value: can not be empty");
  return term;
}

// podAffinity or podAntiAffinity: required terms, then weighted ones.
Status ParsePodAffinity(const Field& f, std::vector<PodAffinityTerm>& required,
                        std::vector<WeightedPodAffinityTerm>& preferred) {
  BERTH_TRY(f.ExpectObject());
  for (const Field& t : BERTH_TRY(f["requiredDuringSchedulingIgnoredDuringExecution"].Items()))
    required.push_back(BERTH_TRY(ParsePodAffinityTerm(t)));
  for (const Field& t : BERTH_TRY(f["preferredDuringSchedulingIgnoredDuringExecution"].Items())) {
    BERTH_TRY(t.ExpectObject());
    WeightedPodAffinityTerm weighted;
    weighted.weight = BERTH_TRY(ParseWeight(t["weight"]));
    weighted.term = BERTH_TRY(ParsePodAffinityTerm(t["podAffinityTerm"]));
    preferred.push_back(std::move(weighted));
  }
  return Ok();
}

Status ParseNodeAffinity(const Field& f, PodInfo& out) {
  BERTH_TRY(f.ExpectObject());
  if (Field required = f["requiredDuringSchedulingIgnoredDuringExecution"]; required.present()) {
    BERTH_TRY(required.ExpectObject());
    Field terms = required["nodeSelectorTerms"];
    for (const Field& t : BERTH_TRY(terms.Items()))
      out.required_node_terms.push_back(BERTH_TRY(ParseNodeSelectorTerm(t)));
    // An empty list would match no node; validation refuses it.
    if (out.required_node_terms.empty()) {
      return terms.Invalid("Required value: must have at least one node selector term");
    }
  }
  for (const Field& t : BERTH_TRY(f["preferredDuringSchedulingIgnoredDuringExecution"].Items())) {
    BERTH_TRY(t.ExpectObject());
    PreferredNodeTerm preferred;
    preferred.weight = BERTH_TRY(ParseWeight(t["weight"]));
    preferred.term = BERTH_TRY(ParseNodeSelectorTerm(t["preference"]));
    out.preferred_node_terms.push_back(std::move(preferred));
  }
  return Ok();
}

Status ParseAffinity(const Field& f, PodInfo& out) {
  BERTH_TRY(f.ExpectObject());
  if (Field node = f["nodeAffinity"]; node.present()) BERTH_TRY(ParseNodeAffinity(node, out));
  if (Field pod = f["podAffinity"]; pod.present()) {
    BERTH_TRY(ParsePodAffinity(pod, out.required_affinity, out.preferred_affinity));
  }
  if (Field anti = f["podAntiAffinity"]; anti.present()) {
    BERTH_TRY(ParsePodAffinity(anti, out.required_anti_affinity, out.preferred_anti_affinity));
  }
  return Ok();
}

Result<Toleration> ParseToleration(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  Toleration t;
  t.key = BERTH_TRY(f["key"].OptString()).value_or("");
  std::string op = BERTH_TRY(f["operator"].OptString()).value_or("");
  if (op == "Exists") {
    t.exists = true;
  } else if (!op.empty() && op != "Equal") {
    return Unsupported(f["operator"], op, "\"Equal\", \"Exists\"");
  }
  t.value = BERTH_TRY(f["value"].OptString()).value_or("");
  t.effect = BERTH_TRY(f["effect"].OptString()).value_or("");
  if (!t.effect.empty() && t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" &&
      t.effect != "NoExecute") {
    return Unsupported(f["effect"], t.effect,
                       "\"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"");
  }
  return t;
}

// Host ports of the pod's containers, as upstream's NodePorts reads them
// (spec.containers only; hostPort 0 publishes nothing on the node).
Status ParseHostPorts(const Field& spec, PodInfo& out) {
  for (const Field& container : BERTH_TRY(spec["containers"].Items())) {
    for (const Field& port : BERTH_TRY(container["ports"].Items())) {
      BERTH_TRY(port.ExpectObject());
      auto host_port = BERTH_TRY(port["hostPort"].OptInt<int32_t>()).value_or(0);
      if (host_port == 0) continue;
      if (host_port < 0 || host_port > 65535) {
        return port["hostPort"].Invalid("Invalid value: " + std::to_string(host_port) +
                                        ": must be between 1 and 65535, inclusive");
      }
      HostPort hp;
      hp.port = host_port;
      hp.protocol = BERTH_TRY(port["protocol"].OptString()).value_or("TCP");
      if (hp.protocol.empty()) hp.protocol = "TCP";
      if (hp.protocol != "TCP" && hp.protocol != "UDP" && hp.protocol != "SCTP") {
        return Unsupported(port["protocol"], hp.protocol, "\"SCTP\", \"TCP\", \"UDP\"");
      }
      hp.host_ip = BERTH_TRY(port["hostIP"].OptString()).value_or("");
      if (hp.host_ip.empty()) hp.host_ip = kBindAllHostIp;
      out.host_ports.push_back(std::move(hp));
    }
  }
  return Ok();
}

Result<Taint> ParseTaint(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  Taint t;
  t.key = BERTH_TRY(f["key"].String());
  t.value = BERTH_TRY(f["value"].OptString()).value_or("");
  t.effect = BERTH_TRY(f["effect"].String());
  if (t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" && t.effect != "NoExecute") {
    return Unsupported(f["effect"], t.effect,
                       "\"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"");
  }
  return t;
}

bool HasAffinity(const PodInfo& pod) {
  return !pod.required_affinity.empty() || !pod.required_anti_affinity.empty() ||
         !pod.preferred_affinity.empty() || !pod.preferred_anti_affinity.empty();
}

// What a pod adds to its node's counters (+1) or takes away (-1).
void Account(NodeInfo& node, const PodInfo& pod, int sign) {
  Resources requests = pod.requests;
  requests.pods = 1;
  if (sign > 0) {
    node.requested += requests;
  } else {
    node.requested -= requests;
  }
  node.pods_with_affinity += HasAffinity(pod) ? sign : 0;
  node.pods_with_required_anti_affinity += pod.required_anti_affinity.empty() ? 0 : sign;
  for (const PodAffinityTerm& term : pod.required_anti_affinity) {
    auto it = node.required_anti_affinity_keys.try_emplace(term.topology_key, 0).first;
    if ((it->second += sign) <= 0) node.required_anti_affinity_keys.erase(it);
  }
  node.pods_without_cpu_request += pod.requests.milli_cpu == 0 ? sign : 0;
  node.pods_without_memory_request += pod.requests.memory == 0 ? sign : 0;
}

}  // namespace

bool Toleration::Tolerates(const Taint& taint) const {
  if (!effect.empty() && effect != taint.effect) return false;
  if (!key.empty() && key != taint.key) return false;
  return exists || value == taint.value;
}

Result<PodInfo> ParsePod(const boost::json::object& pod) {
  PodInfo out;
  Field metadata(pod.if_contains("metadata"), "metadata");
  BERTH_TRY(metadata.ExpectObject());
  out.name = BERTH_TRY(metadata["name"].OptString()).value_or("");
  out.namespace_ = BERTH_TRY(metadata["namespace"].OptString()).value_or("");
  if (out.namespace_.empty()) out.namespace_ = "default";
  out.key = out.namespace_ + "/" + out.name;
  out.uid = BERTH_TRY(metadata["uid"].OptString()).value_or("");
  out.labels = BERTH_TRY(ReadLabels(metadata["labels"]));
  for (const Field& owner : BERTH_TRY(metadata["ownerReferences"].Items())) {
    BERTH_TRY(owner.ExpectObject());
    if (BERTH_TRY(owner["controller"].Bool())) {
      out.controller_uid = BERTH_TRY(owner["uid"].String());
      break;
    }
  }

  Field spec(pod.if_contains("spec"), "spec");
  BERTH_TRY(spec.ExpectObject());
  out.node_name = BERTH_TRY(spec["nodeName"].OptString()).value_or("");
  out.requests = BERTH_TRY(PodRequests(pod));
  BERTH_TRY(ParseHostPorts(spec, out));
  out.node_selector = BERTH_TRY(ReadLabels(spec["nodeSelector"]));
  for (const Field& t : BERTH_TRY(spec["tolerations"].Items()))
    out.tolerations.push_back(BERTH_TRY(ParseToleration(t)));
  if (Field affinity = spec["affinity"]; affinity.present()) {
    BERTH_TRY(ParseAffinity(affinity, out));
  }
  return out;
}

void NodeInfo::AddPod(std::shared_ptr<const PodInfo> pod) {
  if (pod == nullptr) return;
  RemovePod(pod->key);
  Account(*this, *pod, 1);
  for (const HostPort& port : pod->host_ports)
    used_ports.insert(port);
  pods.emplace(pod->key, std::move(pod));
}

void NodeInfo::RemovePod(const std::string& key) {
  auto it = pods.find(key);
  if (it == pods.end()) return;
  const PodInfo& pod = *it->second;
  Account(*this, pod, -1);
  for (const HostPort& port : pod.host_ports) {
    if (auto used = used_ports.find(port); used != used_ports.end()) used_ports.erase(used);
  }
  pods.erase(it);
}

Result<NodeInfo> ParseNode(const boost::json::object& node) {
  NodeInfo out;
  Field metadata(node.if_contains("metadata"), "metadata");
  BERTH_TRY(metadata.ExpectObject());
  out.name = BERTH_TRY(metadata["name"].OptString()).value_or("");
  out.labels = BERTH_TRY(ReadLabels(metadata["labels"]));

  Field spec(node.if_contains("spec"), "spec");
  BERTH_TRY(spec.ExpectObject());
  out.unschedulable = BERTH_TRY(spec["unschedulable"].Bool());
  for (const Field& t : BERTH_TRY(spec["taints"].Items()))
    out.taints.push_back(BERTH_TRY(ParseTaint(t)));

  Field status(node.if_contains("status"), "status");
  BERTH_TRY(status.ExpectObject());
  for (const Field& c : BERTH_TRY(status["conditions"].Items())) {
    BERTH_TRY(c.ExpectObject());
    if (BERTH_TRY(c["type"].OptString()) == "Ready") {
      out.ready = BERTH_TRY(c["status"].OptString()) == "True";
    }
  }
  out.allocatable = BERTH_TRY(NodeAllocatable(node));
  return out;
}

}  // namespace berth::controlplane::scheduler
