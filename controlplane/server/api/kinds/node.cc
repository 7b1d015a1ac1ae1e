// core/v1 Node: the columns of `kubectl get nodes` and the
// spec.unschedulable field label.

#include <algorithm>

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {
namespace {

std::string NodeStatus(const boost::json::object& node) {
  std::string status = "Unknown";
  if (const boost::json::value* conditions = Lookup(node, {"status", "conditions"});
      conditions != nullptr && conditions->is_array()) {
    for (const boost::json::value& c : conditions->as_array()) {
      if (!c.is_object() || LookupString(c.as_object(), {"type"}) != "Ready") continue;
      std::string value = LookupString(c.as_object(), {"status"});
      status = value == "True" ? "Ready" : value == "False" ? "NotReady" : "Unknown";
    }
  }
  if (const boost::json::value* u = Lookup(node, {"spec", "unschedulable"});
      u != nullptr && u->is_bool() && u->as_bool()) {
    status += ",SchedulingDisabled";
  }
  return status;
}

// node-role.kubernetes.io/<role> labels, and kubernetes.io/role.
std::string NodeRoles(const boost::json::object& node) {
  std::vector<std::string> roles;
  if (const boost::json::value* labels = Lookup(node, {"metadata", "labels"});
      labels != nullptr && labels->is_object()) {
    for (const auto& [key, value] : labels->as_object()) {
      constexpr std::string_view kPrefix = "node-role.kubernetes.io/";
      if (key.starts_with(kPrefix) && key.size() > kPrefix.size()) {
        roles.emplace_back(key.substr(kPrefix.size()));
      } else if (key == "kubernetes.io/role" && value.is_string() && !value.as_string().empty()) {
        roles.emplace_back(value.as_string());
      }
    }
  }
  if (roles.empty()) return "<none>";
  std::sort(roles.begin(), roles.end());
  std::string out;
  for (const std::string& r : roles)
    out += (out.empty() ? "" : ",") + r;
  return out;
}

std::string Address(const boost::json::object& node, std::string_view type) {
  if (const boost::json::value* addresses = Lookup(node, {"status", "addresses"});
      addresses != nullptr && addresses->is_array()) {
    for (const boost::json::value& a : addresses->as_array()) {
      if (a.is_object() && LookupString(a.as_object(), {"type"}) == type) {
        return LookupString(a.as_object(), {"address"});
      }
    }
  }
  return "<none>";
}

class Node : public Kind {
 public:
  std::optional<std::string> Field(const boost::json::object& obj,
                                   std::string_view field) const override {
    if (field == "spec.unschedulable") {
      const boost::json::value* u = Lookup(obj, {"spec", "unschedulable"});
      return u != nullptr && u->is_bool() && u->as_bool() ? "true" : "false";
    }
    return Kind::Field(obj, field);
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Status", "string", "", "The status of the node", 0},
        {"Roles", "string", "", "The roles of the node", 0},
        AgeColumn(),
        {"Version", "string", "", "Kubelet Version reported by the node.", 0},
        {"Internal-IP", "string", "", "List of internal IPs in the node.", 1},
        {"External-IP", "string", "", "List of external IPs in the node.", 1},
        {"OS-Image", "string", "", "OS Image reported by the node from /etc/os-release.", 1},
        {"Kernel-Version", "string", "", "Kernel Version reported by the node.", 1},
        {"Container-Runtime", "string", "", "Container Runtime Version reported by the node.", 1}};
  }
  boost::json::array Cells(const boost::json::object& obj, time_t now) const override {
    auto info = [&](std::string_view key) {
      std::string v = LookupString(obj, {"status", "nodeInfo", key});
      return v.empty() ? std::string("<unknown>") : v;
    };
    return {NameOf(obj),
            NodeStatus(obj),
            NodeRoles(obj),
            Age(obj, now),
            LookupString(obj, {"status", "nodeInfo", "kubeletVersion"}),
            Address(obj, "InternalIP"),
            Address(obj, "ExternalIP"),
            info("osImage"),
            info("kernelVersion"),
            info("containerRuntimeVersion")};
  }
};

}  // namespace

const Kind& NodeKind() {
  static const Node kind;
  return kind;
}

}  // namespace berth::controlplane::api
