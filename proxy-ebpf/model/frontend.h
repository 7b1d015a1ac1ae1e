#pragma once
// What the dataplane must do for one Service, independent of BPF: the
// frontends (address, port, protocol) clients reach and, for each, the
// backends that get new connections. Computed from a Service and its
// EndpointSlices with kube-proxy's rules (model/frontends.h); written into
// the BPF maps by maps/lb_maps.h.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::proxy {

// An IPv4 or IPv6 address, network byte order in `bytes` (v4 uses the
// first 4 bytes, the rest are zero).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  // "10.96.0.1" or "fd00::1"; kInvalidArgument naming `what` otherwise.
  static Result<IpAddress> Parse(std::string_view text, std::string_view what = "address");
  std::string ToString() const;
  auto operator<=>(const IpAddress&) const = default;
};

enum class L4Protocol : uint8_t { kTcp = 6, kUdp = 17 };

std::string_view L4Name(L4Protocol protocol);  // "TCP", "UDP"

// Who the frontend's backend list is for. Socket-level balancing serves
// clients on the node (pods and node processes); the TC programs serve
// traffic arriving from outside the node. They differ under the traffic
// policies: internalTrafficPolicy Local narrows the internal list of a
// ClusterIP, externalTrafficPolicy Local narrows the external list of a
// NodePort/externalIP/LoadBalancer frontend (traffic from the node itself
// keeps the cluster-wide list, as kube-proxy's local-origin short cut).
enum class Scope : uint8_t { kInternal = 0, kExternal = 1 };

enum class FrontendKind : uint8_t { kClusterIp, kNodePort, kExternalIp, kLoadBalancer };

std::string_view FrontendKindName(FrontendKind kind);  // "ClusterIP", ...

struct Backend {
  IpAddress address;
  uint16_t port = 0;
  // On this node (endpoint nodeName == the proxy's node).
  bool local = false;
  // Serving and terminating (used only because no ready endpoint exists).
  bool terminating = false;
  auto operator<=>(const Backend&) const = default;
};

// The map key: what a client connects to.
struct FrontendKey {
  IpAddress address;
  uint16_t port = 0;
  L4Protocol protocol = L4Protocol::kTcp;
  Scope scope = Scope::kInternal;
  auto operator<=>(const FrontendKey&) const = default;
};

struct Frontend {
  FrontendKey key;
  FrontendKind kind = FrontendKind::kClusterIp;
  std::string service;    // "namespace/name"
  std::string port_name;  // the ServicePort's name ("" when unnamed)
  // Who gets new connections, sorted, no duplicates. Empty: the service
  // has no usable endpoint and connections are refused.
  std::vector<Backend> backends;
  // sessionAffinity ClientIP: 0 = none, else the timeout in seconds.
  uint32_t affinity_timeout_seconds = 0;
  // A traffic policy of Local narrowed `backends` to this node's endpoints.
  bool local_policy = false;
  bool operator==(const Frontend&) const = default;
};

}  // namespace berth::proxy
