#pragma once
// Service link variables (upstream pkg/kubelet/envvars): for each Service a
// pod sees, FOO_SERVICE_HOST, FOO_SERVICE_PORT, FOO_SERVICE_PORT_<NAME> and
// the Docker link set FOO_PORT, FOO_PORT_80_TCP, ..._PROTO, ..._PORT,
// ..._ADDR.

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "agent/container/expansion.h"

namespace berth::agent {

// The variables for `services`, in their order. Services without a cluster
// IP ("" or "None") or without ports give none.
std::vector<EnvVar> ServiceLinkVars(const std::vector<const boost::json::object*>& services);

// Which of `services` a pod in `pod_namespace` sees (upstream
// getServiceEnvVarMap): "kubernetes" in "default" always, the Services of
// its own namespace when links are enabled (a same-named Service there
// wins); sorted by name.
std::vector<const boost::json::object*> ServicesForPod(
    const std::vector<boost::json::object>& services, const std::string& pod_namespace,
    bool enable_service_links);

}  // namespace berth::agent
