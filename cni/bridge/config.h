#pragma once
// The network configuration berth-cni-bridge reads on stdin (CNI spec
// section 1 and 3: the plugin configuration object with cniVersion, name,
// runtimeConfig and prevResult inserted by the runtime), parsed into plain
// structs. Every error names the offending field ("ipam.rangeStart: ...").
// README.md documents each key and its default.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/bridge/ip.h"
#include "common/error.h"

namespace berth::cni::bridge {

inline constexpr std::string_view kDefaultBridge = "berth0";
inline constexpr std::string_view kDefaultDataDir = "/var/lib/berth/cni/ipam";

struct Route {
  Ipv4Prefix dst;
  std::optional<Ipv4> gw;
  friend bool operator==(const Route&, const Route&) = default;
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
  bool empty() const {
    return nameservers.empty() && domain.empty() && search.empty() && options.empty();
  }
};

enum class Protocol { kTcp, kUdp };
std::string_view ProtocolName(Protocol p);

// One runtimeConfig.portMappings entry (CNI CONVENTIONS.md).
struct PortMapping {
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  Protocol protocol = Protocol::kTcp;
  std::optional<Ipv4> host_ip;  // unset: every local address
};

struct IpamConfig {
  Ipv4Prefix subnet;  // normalised to the network address
  Ipv4 range_start;   // first allocatable address
  Ipv4 range_end;     // last allocatable address
  Ipv4 gateway;
  std::string data_dir{kDefaultDataDir};
  std::vector<Route> routes;  // ipam.routes, before the default route is added
};

// A (container id, ifname) pair listed in a GC request.
struct Attachment {
  std::string container_id;
  std::string ifname;
};

struct NetConf {
  std::string cni_version;
  std::string name;
  std::string type;
  std::string bridge{kDefaultBridge};
  int mtu = 0;  // 0: leave the kernel's default
  bool hairpin_mode = false;
  bool is_gateway = false;
  bool is_default_gateway = false;  // implies is_gateway
  bool ip_masq = false;             // masquerade pod traffic leaving the subnet
  IpamConfig ipam;
  Dns dns;
  std::vector<PortMapping> port_mappings;  // runtimeConfig.portMappings
  std::optional<boost::json::value> prev_result;
  std::vector<Attachment> valid_attachments;  // cni.dev/valid-attachments (GC)

  // Routes to install in the pod: ipam.routes plus 0.0.0.0/0 via the
  // gateway when isDefaultGateway is set.
  std::vector<Route> PodRoutes() const;
};

// Parses the configuration document. Does not check cniVersion against the
// supported list (the dispatcher does, to answer with error code 1).
Result<NetConf> ParseNetConf(const boost::json::value& doc);
Result<NetConf> ParseNetConfText(std::string_view text);

// Linux interface name rules (CNI spec: CNI_IFNAME): 1-15 bytes, not "." or
// "..", no '/', ':' or whitespace.
Status ValidateIfName(std::string_view name, std::string_view what);
// CNI container id / network name rule: [A-Za-z0-9][A-Za-z0-9_.-]*.
Status ValidateIdentifier(std::string_view id, std::string_view what);

}  // namespace berth::cni::bridge
