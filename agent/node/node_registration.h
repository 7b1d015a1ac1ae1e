#pragma once
// The Node object kubelet registers, and how it reconciles a Node that
// already exists (upstream kubelet_node_status.go initialNode and
// tryRegisterWithAPIServer).

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>

namespace berth::agent {

inline constexpr char kControllerManagedAttachDetach[] =
    "volumes.kubernetes.io/controller-managed-attach-detach";

// kubernetes.io/hostname (the node name), kubernetes.io/os and
// kubernetes.io/arch, and their beta.kubernetes.io/ twins.
std::map<std::string, std::string> DefaultNodeLabels(const std::string& hostname);

// metadata (name; the default labels with `labels` (--node-labels) over
// them; the controller-managed attach/detach annotation) and spec.taints
// (--register-with-taints). The caller adds the status.
boost::json::object InitialNode(const std::string& name,
                                const std::map<std::string, std::string>& labels,
                                const boost::json::array& taints);

// What makes an existing Node agree with `initial` where kubelet owns it:
// each of upstream's default labels (the hostname, os and arch ones, and
// the zone, region and instance-type ones kubelet sets only with a cloud
// provider) takes the initial value or is removed when the initial node
// has none, and the attach/detach annotation is set. A JSON merge patch
// of metadata, or nullopt when nothing differs. --node-labels and taints
// are applied at creation only, as upstream.
std::optional<boost::json::object> ReconcilePatch(const boost::json::object& initial,
                                                  const boost::json::object& existing);

}  // namespace berth::agent
