#pragma once
// A container's environment as kubelet builds it (upstream
// makeEnvironmentVariables): envFrom sources first (a prefix prepended to
// each key), then env in declaration order, each `value` with $(VAR)
// references expanded from the variables defined before it and the service
// variables, each `valueFrom` resolved (configMapKeyRef, secretKeyRef,
// fieldRef, resourceFieldRef); then the service link variables not
// already defined.
//
// Order: upstream hands the runtime a Go map's (random) order; berth keeps
// the first definition's position of each name (a later definition
// replaces the value there), envFrom keys sorted within each source, then
// the service variables by service name.

#include <boost/json.hpp>
#include <functional>
#include <string>
#include <vector>

#include "agent/container/expansion.h"
#include "common/error.h"
#include "volumes/field_ref.h"

namespace berth::agent {

struct EnvContext {
  const boost::json::object* pod = nullptr;
  std::string node_name;
  std::vector<std::string> host_ips, pod_ips;  // status.hostIP(s) / status.podIP(s)
  volumes::NodeAllocatable node;               // for resourceFieldRef of unset limits
  // The ConfigMap / Secret `name` in namespace `ns`; Errc::kNotFound when
  // it does not exist.
  std::function<Result<boost::json::object>(const std::string&ns, const std::string&name)>
      config_map, secret;
  // Services for the link variables: those of the pod's namespace and
  // "kubernetes" in "default" (others are ignored).
  std::vector<boost::json::object> services;
};

// Errors carry upstream's messages (the worker reports them as
// CreateContainerConfigError): `configmap "x" not found`, `couldn't find
// key k in ConfigMap ns/x`, `secret "s" not found`, `couldn't find key k in
// Secret ns/s`.
Result<std::vector<EnvVar>> MakeEnvironment(const boost::json::object& container,
                                            const EnvContext& ctx);

}  // namespace berth::agent
