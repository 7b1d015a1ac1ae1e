#include "agent/node/node_registration.h"

#include "agent/node/machine_info.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;

// upstream's updateDefaultLabels list.
constexpr const char* kDefaultLabels[] = {
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "node.kubernetes.io/windows-build",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
};

const bj::object* Object(const bj::object& o, std::string_view a, std::string_view b) {
  const bj::value* v = o.if_contains(a);
  if (v == nullptr || !v->is_object()) return nullptr;
  v = v->as_object().if_contains(b);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

}  // namespace

std::map<std::string, std::string> DefaultNodeLabels(const std::string& hostname) {
  return {{"kubernetes.io/hostname", hostname},
          {"kubernetes.io/os", "linux"},
          {"kubernetes.io/arch", GoArch()},
          {"beta.kubernetes.io/os", "linux"},
          {"beta.kubernetes.io/arch", GoArch()}};
}

bj::object InitialNode(const std::string& name, const std::map<std::string, std::string>& labels,
                       const bj::array& taints) {
  bj::object label_object;
  for (const auto& [k, v] : DefaultNodeLabels(name))
    label_object[k] = v;
  for (const auto& [k, v] : labels)
    label_object[k] = v;
  bj::object node{{"apiVersion", "v1"},
                  {"kind", "Node"},
                  {"metadata", bj::object{{"name", name},
                                          {"labels", std::move(label_object)},
                                          {"annotations",
                                           bj::object{{kControllerManagedAttachDetach, "true"}}}}},
                  {"spec", bj::object{}}};
  if (!taints.empty()) node["spec"].as_object()["taints"] = taints;
  return node;
}

std::optional<bj::object> ReconcilePatch(const bj::object& initial, const bj::object& existing) {
  static const bj::object kEmpty;
  const bj::object* want = Object(initial, "metadata", "labels");
  const bj::object* have = Object(existing, "metadata", "labels");
  if (want == nullptr) want = &kEmpty;
  if (have == nullptr) have = &kEmpty;
  bj::object labels;
  for (const char* key : kDefaultLabels) {
    const bj::value* w = want->if_contains(key);
    const bj::value* h = have->if_contains(key);
    if (w != nullptr && (h == nullptr || *h != *w)) labels[key] = *w;
    if (w == nullptr && h != nullptr) labels[key] = nullptr;  // merge patch: remove
  }
  bj::object metadata;
  if (!labels.empty()) metadata["labels"] = std::move(labels);
  const bj::object* annotations = Object(existing, "metadata", "annotations");
  const bj::value* cmad =
      annotations != nullptr ? annotations->if_contains(kControllerManagedAttachDetach) : nullptr;
  if (cmad == nullptr || *cmad != "true") {
    metadata["annotations"] = bj::object{{kControllerManagedAttachDetach, "true"}};
  }
  if (metadata.empty()) return std::nullopt;
  return bj::object{{"metadata", std::move(metadata)}};
}

}  // namespace berth::agent
