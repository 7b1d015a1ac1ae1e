#pragma once
// Upstream's NodeRestriction admission plugin, for pods a node creates:
// only mirror pods of its own static pods (kubernetes.io/config.mirror
// annotation, spec.nodeName itself, owned by nothing but its own Node) and
// none that name secrets, configmaps, persistent volume claims or a
// service account, which the node authorizer would then let it read.

#include <boost/json.hpp>
#include <optional>
#include <string>

namespace berth::controlplane::admission {

// Why node `node` may not create `pod`, in upstream's words; nullopt when
// it may.
std::optional<std::string> NodeRestrictPodCreate(const boost::json::object& pod,
                                                 const std::string& node);

}  // namespace berth::controlplane::admission
