#pragma once
// What the runtime passes to plugins besides the network configuration:
// the attachment's identity (container id, netns path, interface name), the
// CNI_ARGS key/value pairs, and capability arguments, which reach a plugin
// as `runtimeConfig` only when its `capabilities` map enables them
// (CONVENTIONS.md: portMappings, dns, bandwidth, ipRanges, ...).

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::cni {

namespace bj = boost::json;

// CONVENTIONS.md "portMappings".
struct PortMapping {
  int32_t host_port = 0;
  int32_t container_port = 0;
  std::string protocol = "tcp";  // tcp, udp, sctp
  std::string host_ip;           // empty: all addresses
};

// CONVENTIONS.md "bandwidth": rates in bits per second, bursts in bits.
struct Bandwidth {
  uint64_t ingress_rate = 0;
  uint64_t ingress_burst = 0;
  uint64_t egress_rate = 0;
  uint64_t egress_burst = 0;
};

// CONVENTIONS.md "dns" (the pod's resolv.conf wishes).
struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

// CONVENTIONS.md "ipRanges": one element of a range set.
struct IpRange {
  std::string subnet;
  std::string range_start;
  std::string range_end;
  std::string gateway;
};

struct CapabilityArgs {
  std::vector<PortMapping> port_mappings;
  std::optional<Bandwidth> bandwidth;
  std::optional<DnsConfig> dns;
  std::vector<std::vector<IpRange>> ip_ranges;
  bj::object extra;  // any other capability key, passed as is

  // The keys that are set, as the runtimeConfig object before filtering.
  bj::object ToJson() const;
};

using CniArgs = std::vector<std::pair<std::string, std::string>>;

// One attachment of a container to the network.
struct RuntimeConf {
  std::string container_id;  // the pod sandbox id
  std::string netns;         // path of the netns (/proc/<pid>/ns/net or a pin)
  std::string ifname = "eth0";
  CniArgs args;  // CNI_ARGS
  CapabilityArgs capabilities;
};

// The CNI_ARGS containerd's CRI plugin sends for a pod sandbox:
// IgnoreUnknown=1, K8S_POD_NAMESPACE, K8S_POD_NAME,
// K8S_POD_INFRA_CONTAINER_ID, K8S_POD_UID.
CniArgs PodCniArgs(std::string_view pod_namespace, std::string_view pod_name,
                   std::string_view pod_uid, std::string_view sandbox_id);
// "K=V;K=V"; keys and values must not contain ';' (nor keys '=').
Result<std::string> FormatCniArgs(const CniArgs& args);

// SPEC: alphanumeric first, then alphanumerics, '_', '.', '-'.
Status ValidateContainerId(std::string_view id);
// SPEC: not empty, not "." or "..", under 16 bytes, no '/', ':' or spaces.
Status ValidateIfName(std::string_view ifname);

}  // namespace berth::cni
