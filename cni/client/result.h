#pragma once
// The CNI Result a plugin chain returns from ADD (SPEC "Success"), kept as
// its JSON document (unknown keys and the 1.1 fields like mtu, scope, table
// pass through and reach the cache untouched) with typed, validated views
// of the parts the runtime reads: interfaces, ips, routes, dns.
//
// Versions: 1.x results (cniVersion 1.0.0, 1.1.0) and 0.3.x/0.4.0 results
// differ only by ips[].version ("4"/"6"), which ConvertTo adds or drops.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::cni {

namespace bj = boost::json;

struct Interface {
  std::string name;
  std::string mac;
  std::string sandbox;  // netns path for container interfaces, empty on the host
  std::optional<int> mtu;
};

struct IpConfig {
  std::string address;              // CIDR: "10.88.0.5/24"
  std::string gateway;              // may be empty
  std::optional<size_t> interface;  // index into interfaces
  int family = 4;                   // 4 or 6

  std::string Ip() const;  // address without the prefix length
};

struct Route {
  std::string dst;  // CIDR
  std::string gw;   // may be empty
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
};

class NetworkResult {
 public:
  // Parses a plugin's stdout. `what` names the source in errors; a result
  // without cniVersion takes `default_version` (libcni does the same).
  static Result<NetworkResult> Parse(std::string_view text, std::string_view what,
                                     std::string_view default_version = {});
  static Result<NetworkResult> FromJson(bj::object doc, std::string_view what,
                                        std::string_view default_version = {});

  const std::string& cni_version() const { return cni_version_; }
  const std::vector<Interface>& interfaces() const { return interfaces_; }
  const std::vector<IpConfig>& ips() const { return ips_; }
  const std::vector<Route>& routes() const { return routes_; }
  const Dns& dns() const { return dns_; }
  const bj::object& json() const { return doc_.get_object(); }
  std::string ToJson() const { return bj::serialize(doc_); }

  // The same result in the format of another supported spec version.
  Result<NetworkResult> ConvertTo(std::string_view version) const;

  // The sandbox's IPs as CRI PodSandboxStatus reports them (IPv4 first, then
  // IPv6, without prefix length): those on the container interface
  // `ifname`, else on any container interface, else (IPAM-style results
  // without interface indexes) all of them.
  std::vector<std::string> PodIps(std::string_view ifname = "eth0") const;

 private:
  NetworkResult() = default;
  Status ParseViews(std::string_view default_version);

  bj::value doc_;  // always an object
  std::string cni_version_;
  std::vector<Interface> interfaces_;
  std::vector<IpConfig> ips_;
  std::vector<Route> routes_;
  Dns dns_;
};

// Parses "a.b.c.d/n" or "x::y/n"; returns the family (4 or 6).
Result<int> ParseCidr(std::string_view cidr, std::string_view what);
// Parses a bare IP address; returns the family (4 or 6).
Result<int> ParseIp(std::string_view ip, std::string_view what);

}  // namespace berth::cni
