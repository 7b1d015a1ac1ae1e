#pragma once
// kube-proxy's rules, as pure functions: a Service and its EndpointSlices
// -> the frontends of model/frontend.h. No I/O; unit-tested alone.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "proxy-ebpf/model/frontend.h"

namespace berth::proxy {

struct NodeInfo {
  std::string name;                  // endpoints with this nodeName are local
  std::vector<IpAddress> addresses;  // where NodePorts are served
};

// The frontends of `service` (a core/v1 Service) given the EndpointSlices
// labelled kubernetes.io/service-name=<its name> in its namespace. Empty
// for headless and ExternalName services. kInvalidArgument naming the
// field (e.g. "spec.clusterIPs[1]") for what cannot be parsed.
Result<std::vector<Frontend>> FrontendsOf(const boost::json::object& service,
                                          const std::vector<boost::json::object>& slices,
                                          const NodeInfo& node);

// externalTrafficPolicy Local with a healthCheckNodePort: what the health
// server answers for it (200 with local endpoints, 503 without).
struct HealthCheck {
  std::string service;  // "namespace/name"
  uint16_t node_port = 0;
  int local_endpoints = 0;
  auto operator<=>(const HealthCheck&) const = default;
};
std::optional<HealthCheck> HealthCheckOf(const boost::json::object& service,
                                         const std::vector<boost::json::object>& slices,
                                         const NodeInfo& node);

}  // namespace berth::proxy
