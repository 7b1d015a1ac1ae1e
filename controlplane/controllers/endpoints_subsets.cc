#include "controlplane/controllers/endpoints_subsets.h"

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_readiness.h"
#include "controlplane/controllers/service_pods.h"
#include "controlplane/controllers/service_ports.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

// One address offering one port (or none), before repacking.
struct Entry {
  std::string address_key;  // ip and pod uid
  bj::object address;
  std::optional<bj::object> port;
  bool ready = false;
};

bool PublishNotReady(const bj::object& service) {
  const bj::value* spec = service.if_contains("spec");
  if (spec == nullptr || !spec->is_object()) return false;
  const bj::value* v = spec->as_object().if_contains("publishNotReadyAddresses");
  return v != nullptr && v->is_bool() && v->as_bool();
}

// The pod's address of the Service's (first) IP family; "" when none.
std::string AddressFor(const bj::object& service, const bj::object& pod) {
  bool v6 = false;
  std::vector<std::string> families = StringsAt(service, {"spec", "ipFamilies"});
  if (!families.empty()) {
    v6 = families.front() == "IPv6";
  } else if (IsServiceIpSet(service)) {
    v6 = IsIpv6(StringAt(service, {"spec", "clusterIP"}));
  } else {
    v6 = IsIpv6(StringAt(pod, {"status", "podIP"}));
  }
  for (const std::string& ip : PodIps(pod)) {
    if (IsIpv6(ip) == v6) return ip;
  }
  return "";
}

std::string PortKey(const bj::object& port) {
  const bj::value* number = port.if_contains("port");
  return StringAt(port, {"name"}) + '\x1f' + (number != nullptr ? bj::serialize(*number) : "") +
         '\x1f' + StringAt(port, {"protocol"}) + '\x1f' + StringAt(port, {"appProtocol"});
}

// Upstream's RepackSubsets: the addresses offering each port (an address
// not ready for any port is not ready), then the ports of each set of
// addresses.
bj::array Repack(const std::vector<Entry>& entries) {
  struct PortAddresses {
    std::optional<bj::object> port;
    std::map<std::string, bool> ready;  // by address key
  };
  std::map<std::string, bj::object> addresses;  // the first seen of each key
  std::map<std::string, PortAddresses> by_port;
  for (const Entry& e : entries) {
    addresses.emplace(e.address_key, e.address);
    PortAddresses& p = by_port[e.port ? PortKey(*e.port) : std::string()];
    p.port = e.port;
    auto it = p.ready.find(e.address_key);
    if (it == p.ready.end()) {
      p.ready[e.address_key] = e.ready;
    } else if (it->second) {
      it->second = e.ready;
    }
  }
  struct Group {
    const std::map<std::string, bool>* ready = nullptr;
    std::map<std::string, bj::object> ports;  // by PortKey
  };
  std::map<std::string, Group> groups;  // by the set of addresses and readiness
  for (const auto& [key, p] : by_port) {
    std::string set;
    for (const auto& [address, ready] : p.ready)
      set += address + (ready ? "+" : "-") + '\x1e';
    Group& g = groups[set];
    g.ready = &p.ready;
    if (p.port) g.ports[key] = *p.port;
  }
  bj::array subsets;
  for (const auto& [set, g] : groups) {
    bj::array ready, not_ready, ports;
    for (const auto& [address, is_ready] : *g.ready)
      (is_ready ? ready : not_ready).push_back(addresses[address]);
    for (const auto& [key, port] : g.ports)
      ports.emplace_back(port);
    bj::object subset;
    if (!ready.empty()) subset["addresses"] = std::move(ready);
    if (!not_ready.empty()) subset["notReadyAddresses"] = std::move(not_ready);
    if (!ports.empty()) subset["ports"] = std::move(ports);
    subsets.emplace_back(std::move(subset));
  }
  return subsets;
}

size_t Size(const bj::object& subset, const char* key) {
  const bj::value* v = subset.if_contains(key);
  return v != nullptr && v->is_array() ? v->as_array().size() : 0;
}

}  // namespace

bj::array EndpointSubsets(const bj::object& service, const std::vector<bj::object>& pods) {
  const bool publish = PublishNotReady(service);
  const bj::value* spec_ports = nullptr;
  if (const bj::value* spec = service.if_contains("spec"); spec && spec->is_object()) {
    spec_ports = spec->as_object().if_contains("ports");
  }
  const bool has_ports =
      spec_ports != nullptr && spec_ports->is_array() && !spec_ports->as_array().empty();
  std::vector<Entry> entries;
  for (const bj::object& pod : pods) {
    if (!ShouldPodBeInEndpoints(pod, publish)) continue;
    std::string ip = AddressFor(service, pod);
    if (ip.empty()) continue;  // a pod without an address of the family
    Entry e;
    e.address_key = ip + '\x1f' + StringAt(pod, {"metadata", "uid"});
    e.address =
        bj::object{{"ip", ip},
                   {"nodeName", StringAt(pod, {"spec", "nodeName"})},
                   {"targetRef", bj::object{{"kind", "Pod"},
                                            {"namespace", StringAt(pod, {"metadata", "namespace"})},
                                            {"name", StringAt(pod, {"metadata", "name"})},
                                            {"uid", StringAt(pod, {"metadata", "uid"})}}}};
    if (ShouldSetHostname(pod, service)) {
      e.address["hostname"] = StringAt(pod, {"spec", "hostname"});
    }
    e.ready = publish || IsPodReady(pod);
    if (!has_ports) {
      if (StringAt(service, {"spec", "clusterIP"}) == "None") entries.push_back(std::move(e));
      continue;
    }
    for (const bj::value& p : spec_ports->as_array()) {
      if (!p.is_object()) continue;
      std::optional<int64_t> number = FindPort(pod, p.as_object());
      if (!number) continue;
      bj::object port{{"port", *number}, {"protocol", PortProtocol(p.as_object())}};
      if (std::string name = StringAt(p.as_object(), {"name"}); !name.empty()) port["name"] = name;
      if (std::string app = StringAt(p.as_object(), {"appProtocol"}); !app.empty()) {
        port["appProtocol"] = app;
      }
      Entry with_port = e;
      with_port.port = std::move(port);
      entries.push_back(std::move(with_port));
    }
  }
  return Repack(entries);
}

size_t CountAddresses(const bj::array& subsets) {
  size_t n = 0;
  for (const bj::value& s : subsets) {
    if (s.is_object())
      n += Size(s.as_object(), "addresses") + Size(s.as_object(), "notReadyAddresses");
  }
  return n;
}

bool TruncateSubsets(bj::array& subsets) {
  size_t total_ready = 0, total_not_ready = 0;
  for (const bj::value& s : subsets) {
    if (!s.is_object()) continue;
    total_ready += Size(s.as_object(), "addresses");
    total_not_ready += Size(s.as_object(), "notReadyAddresses");
  }
  if (total_ready + total_not_ready <= kMaxEndpointsAddresses) return false;
  const bool truncate_ready = total_ready > kMaxEndpointsAddresses;
  const size_t max = truncate_ready ? kMaxEndpointsAddresses : kMaxEndpointsAddresses - total_ready;
  const size_t total = truncate_ready ? total_ready : total_not_ready;
  size_t can_add = max;
  for (bj::value& s : subsets) {
    if (!s.is_object()) continue;
    bj::object& subset = s.as_object();
    const char* field = truncate_ready ? "addresses" : "notReadyAddresses";
    // Each subset's share, rounded up: the last ones are cut the most.
    auto share =
        static_cast<size_t>(std::ceil(static_cast<double>(Size(subset, field)) /
                                      static_cast<double>(total) * static_cast<double>(max)));
    share = std::min(share, can_add);
    if (bj::value* v = subset.if_contains(field); v != nullptr && v->is_array()) {
      bj::array& list = v->as_array();
      if (list.size() > share) list.resize(share);
      can_add -= list.size();
      if (list.empty()) subset.erase(field);
    }
    if (truncate_ready) subset.erase("notReadyAddresses");
  }
  return true;
}

}  // namespace berth::controlplane::controllers
