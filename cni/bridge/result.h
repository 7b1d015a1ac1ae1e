#pragma once
// The CNI Success result (spec section 5): interfaces, ips, routes, dns.
// Rendered for the cniVersion the runtime asked for (0.3.x/0.4.0 results
// carry "version" in each ips entry; 1.x results do not), and parsed back
// from prevResult for CHECK.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/bridge/config.h"
#include "cni/bridge/ip.h"
#include "common/error.h"

namespace berth::cni::bridge {

struct ResultInterface {
  std::string name;
  std::string mac;      // "aa:bb:cc:dd:ee:ff"
  std::string sandbox;  // netns path for the pod's interface, empty on the host
};

struct ResultIp {
  Ipv4Prefix address;
  std::optional<Ipv4> gateway;
  std::optional<int> interface;  // index into interfaces
};

struct CniResult {
  std::vector<ResultInterface> interfaces;
  std::vector<ResultIp> ips;
  std::vector<Route> routes;
  Dns dns;
};

boost::json::object ResultToJson(const CniResult& result, std::string_view cni_version);
std::string RenderResult(const CniResult& result, std::string_view cni_version);
// Reads a result document (prevResult); IPv6 entries are skipped.
Result<CniResult> ParseResult(const boost::json::value& doc);

// {"cniVersion": ..., "supportedVersions": [...]}
std::string RenderVersionResult(std::string_view cni_version);

}  // namespace berth::cni::bridge
