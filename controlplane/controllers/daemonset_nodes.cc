#include "controlplane/controllers/daemonset_nodes.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <vector>

#include "controlplane/controllers/api_util.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

const bj::array& ArrayAt(const bj::object& obj, std::initializer_list<std::string_view> path) {
  static const bj::array kEmpty;
  const bj::value* v = api::Lookup(obj, path);
  return v != nullptr && v->is_array() ? v->as_array() : kEmpty;
}

bool ParseInt(std::string_view s, int64_t& out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return !s.empty() && ec == std::errc() && ptr == end;
}

// One nodeSelectorRequirement against the value it names (null: absent).
bool MatchesRequirement(const bj::object& r, const std::string* value) {
  std::string op = StringAt(r, {"operator"});
  std::vector<std::string> values = StringsAt(r, {"values"});
  bool listed = value != nullptr && std::find(values.begin(), values.end(), *value) != values.end();
  if (op == "In") return listed;
  if (op == "NotIn") return !listed;
  if (op == "Exists") return value != nullptr;
  if (op == "DoesNotExist") return value == nullptr;
  if (op == "Gt" || op == "Lt") {
    int64_t have = 0;
    int64_t bound = 0;
    if (value == nullptr || values.size() != 1 || !ParseInt(*value, have) ||
        !ParseInt(values[0], bound)) {
      return false;
    }
    return op == "Gt" ? have > bound : have < bound;
  }
  return false;
}

const std::string* LabelOf(const bj::object& node, const std::string& key, std::string& scratch) {
  const bj::value* v = api::Lookup(node, {"metadata", "labels", key});
  if (v == nullptr || !v->is_string()) return nullptr;
  scratch = std::string(v->as_string());
  return &scratch;
}

// A term with neither expressions nor fields matches no node.
bool MatchesTerm(const bj::object& term, const bj::object& node) {
  const bj::array& expressions = ArrayAt(term, {"matchExpressions"});
  const bj::array& fields = ArrayAt(term, {"matchFields"});
  if (expressions.empty() && fields.empty()) return false;
  std::string scratch;
  for (const bj::value& e : expressions) {
    if (!e.is_object()) return false;
    std::string key = StringAt(e.as_object(), {"key"});
    if (!MatchesRequirement(e.as_object(), LabelOf(node, key, scratch))) return false;
  }
  std::string name = StringAt(node, {"metadata", "name"});
  for (const bj::value& f : fields) {
    if (!f.is_object()) return false;
    bool is_name = StringAt(f.as_object(), {"key"}) == "metadata.name";
    if (!MatchesRequirement(f.as_object(), is_name ? &name : nullptr)) return false;
  }
  return true;
}

// nodeaffinity.GetRequiredNodeAffinity(pod).Match(node).
bool MatchesNodeAffinity(const bj::object& spec, const bj::object& node) {
  if (const bj::value* sel = spec.if_contains("nodeSelector"); sel && sel->is_object()) {
    std::string scratch;
    for (const auto& [key, want] : sel->as_object()) {
      const std::string* have = LabelOf(node, std::string(key), scratch);
      if (have == nullptr || !want.is_string() || *have != want.as_string()) return false;
    }
  }
  const bj::value* required = api::Lookup(
      spec, {"affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"});
  if (required == nullptr || !required->is_object()) return true;
  const bj::array& terms = ArrayAt(required->as_object(), {"nodeSelectorTerms"});
  return std::any_of(terms.begin(), terms.end(), [&](const bj::value& t) {
    return t.is_object() && MatchesTerm(t.as_object(), node);
  });
}

bool Tolerates(const bj::object& toleration, const bj::object& taint) {
  std::string effect = StringAt(toleration, {"effect"});
  if (!effect.empty() && effect != StringAt(taint, {"effect"})) return false;
  std::string key = StringAt(toleration, {"key"});
  if (!key.empty() && key != StringAt(taint, {"key"})) return false;
  std::string op = StringAt(toleration, {"operator"});
  if (op == "Exists") return true;
  return (op.empty() || op == "Equal") &&
         StringAt(toleration, {"value"}) == StringAt(taint, {"value"});
}

// Some taint with one of `effects` is tolerated by no toleration.
bool HasUntoleratedTaint(const bj::object& node, const bj::array& tolerations,
                         std::initializer_list<std::string_view> effects) {
  for (const bj::value& t : ArrayAt(node, {"spec", "taints"})) {
    if (!t.is_object()) continue;
    std::string effect = StringAt(t.as_object(), {"effect"});
    if (std::find(effects.begin(), effects.end(), effect) == effects.end()) continue;
    bool tolerated = std::any_of(tolerations.begin(), tolerations.end(), [&](const bj::value& tol) {
      return tol.is_object() && Tolerates(tol.as_object(), t.as_object());
    });
    if (!tolerated) return true;
  }
  return false;
}

void AddOrUpdateToleration(bj::array& tolerations, bj::object want) {
  for (bj::value& have : tolerations) {
    if (!have.is_object()) continue;
    bj::object& h = have.as_object();
    bool same = StringAt(h, {"key"}) == StringAt(want, {"key"}) &&
                StringAt(h, {"operator"}) == StringAt(want, {"operator"}) &&
                StringAt(h, {"value"}) == StringAt(want, {"value"}) &&
                StringAt(h, {"effect"}) == StringAt(want, {"effect"});
    if (same) {
      have = std::move(want);
      return;
    }
  }
  tolerations.emplace_back(std::move(want));
}

}  // namespace

void AddDaemonPodTolerations(bj::object& spec) {
  bj::value& v = spec["tolerations"];
  if (!v.is_array()) v = bj::array();
  bj::array& tolerations = v.as_array();
  auto exists = [](const char* key, const char* effect) {
    return bj::object{{"key", key}, {"operator", "Exists"}, {"effect", effect}};
  };
  AddOrUpdateToleration(tolerations, exists("node.kubernetes.io/not-ready", "NoExecute"));
  AddOrUpdateToleration(tolerations, exists("node.kubernetes.io/unreachable", "NoExecute"));
  AddOrUpdateToleration(tolerations, exists("node.kubernetes.io/disk-pressure", "NoSchedule"));
  AddOrUpdateToleration(tolerations, exists("node.kubernetes.io/memory-pressure", "NoSchedule"));
  AddOrUpdateToleration(tolerations, exists("node.kubernetes.io/pid-pressure", "NoSchedule"));
  AddOrUpdateToleration(tolerations, exists("node.kubernetes.io/unschedulable", "NoSchedule"));
  const bj::value* host_network = spec.if_contains("hostNetwork");
  if (host_network != nullptr && host_network->is_bool() && host_network->as_bool()) {
    AddOrUpdateToleration(tolerations,
                          exists("node.kubernetes.io/network-unavailable", "NoSchedule"));
  }
}

DaemonNodeFit NodeShouldRunDaemonPod(const bj::object& node, const bj::object& ds) {
  const bj::value* s = api::Lookup(ds, {"spec", "template", "spec"});
  bj::object spec = s != nullptr && s->is_object() ? s->as_object() : bj::object();
  std::string node_name = StringAt(node, {"metadata", "name"});
  std::string wanted = StringAt(spec, {"nodeName"});
  if (!wanted.empty() && wanted != node_name) return {};
  if (!MatchesNodeAffinity(spec, node)) return {};
  AddDaemonPodTolerations(spec);
  const bj::array& tolerations = spec["tolerations"].as_array();
  if (!HasUntoleratedTaint(node, tolerations, {"NoSchedule", "NoExecute"})) return {true, true};
  return {false, !HasUntoleratedTaint(node, tolerations, {"NoExecute"})};
}

void PinToNode(bj::object& spec, const std::string& node) {
  bj::object term{{"matchFields", bj::array{bj::object{{"key", "metadata.name"},
                                                       {"operator", "In"},
                                                       {"values", bj::array{bj::string(node)}}}}}};
  bj::object& affinity = api::Child(spec, "affinity");
  bj::object& node_affinity = api::Child(affinity, "nodeAffinity");
  bj::object& required =
      api::Child(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution");
  required["nodeSelectorTerms"] = bj::array{std::move(term)};
}

std::string TargetNodeName(const bj::object& pod) {
  std::string node = StringAt(pod, {"spec", "nodeName"});
  if (!node.empty()) return node;
  const bj::value* required = api::Lookup(
      pod, {"spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"});
  if (required == nullptr || !required->is_object()) return "";
  for (const bj::value& term : ArrayAt(required->as_object(), {"nodeSelectorTerms"})) {
    if (!term.is_object()) continue;
    for (const bj::value& f : ArrayAt(term.as_object(), {"matchFields"})) {
      if (!f.is_object()) continue;
      const bj::object& r = f.as_object();
      std::vector<std::string> values = StringsAt(r, {"values"});
      if (StringAt(r, {"key"}) == "metadata.name" && StringAt(r, {"operator"}) == "In" &&
          values.size() == 1) {
        return values[0];
      }
    }
  }
  return "";
}

}  // namespace berth::controlplane::controllers
