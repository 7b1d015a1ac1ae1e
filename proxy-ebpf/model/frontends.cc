// kube-proxy's rules for one Service: parse the fields it uses (errors name
// the field path), pick each port's endpoints from the EndpointSlices
// (CategorizeEndpoints: ready ones, else serving-and-terminating ones; the
// same over this node's endpoints for a Local policy), then list the
// frontends of every ClusterIP, NodePort, externalIP and load-balancer IP.

#include "proxy-ebpf/model/frontends.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "common/json.h"

namespace berth::proxy {
namespace {

namespace bj = boost::json;
using json::Field;

constexpr std::string_view kServiceNameLabel = "kubernetes.io/service-name";
constexpr std::string_view kProxyNameLabel = "service.kubernetes.io/service-proxy-name";
constexpr std::string_view kHeadlessLabel = "service.kubernetes.io/headless";
constexpr int64_t kDefaultAffinitySeconds = 10800;  // core/v1 default: 3 hours
constexpr int64_t kMaxAffinitySeconds = 86400;      // API validation's limit

Field Top(const bj::object& object, std::string_view key) {
  return {object.if_contains(key), std::string(key)};
}

// Metadata is read leniently: the apiserver guarantees its shape, and a
// missing namespace means the object came from a hand-written fixture.
const bj::value* MetaAt(const bj::object& object, std::string_view key) {
  const bj::value* meta = object.if_contains("metadata");
  if (meta == nullptr || !meta->is_object()) return nullptr;
  return meta->get_object().if_contains(key);
}

std::optional<std::string> MetaString(const bj::object& object, std::string_view key) {
  const bj::value* v = MetaAt(object, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<std::string> Label(const bj::object& object, std::string_view label) {
  const bj::value* labels = MetaAt(object, "labels");
  if (labels == nullptr || !labels->is_object()) return std::nullopt;
  const bj::value* v = labels->get_object().if_contains(label);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// A port number: absent -> nullopt, else 1..65535.
Result<std::optional<uint16_t>> OptPort(const Field& field) {
  std::optional<int64_t> v = BERTH_TRY(field.OptInt<int64_t>());
  if (!v) return std::optional<uint16_t>();
  if (*v < 1 || *v > 65535) return field.Invalid(std::to_string(*v) + " out of range");
  return std::optional<uint16_t>(static_cast<uint16_t>(*v));
}

// nullopt for SCTP, which the dataplane does not balance.
Result<std::optional<L4Protocol>> ProtocolOf(const Field& field) {
  std::string name = BERTH_TRY(field.OptString()).value_or("TCP");
  if (name == "TCP") return std::optional<L4Protocol>(L4Protocol::kTcp);
  if (name == "UDP") return std::optional<L4Protocol>(L4Protocol::kUdp);
  if (name == "SCTP") return std::optional<L4Protocol>();
  return field.Invalid("unknown protocol \"" + name + "\"");
}

// true for "Local"; "Cluster" or absent -> false.
Result<bool> PolicyIsLocal(const Field& field) {
  std::string policy = BERTH_TRY(field.OptString()).value_or("Cluster");
  if (policy == "Local") return true;
  if (policy == "Cluster") return false;
  return field.Invalid("unknown traffic policy \"" + policy + "\"");
}

struct ServicePort {
  std::string name;
  L4Protocol protocol = L4Protocol::kTcp;
  uint16_t port = 0;
  uint16_t node_port = 0;  // 0: none
};

struct Service {
  std::string ns;
  std::string name;
  std::string type;
  std::vector<IpAddress> cluster_ips;
  std::array<bool, 2> has_family{};  // [v6]
  std::vector<ServicePort> ports;
  std::vector<IpAddress> external_ips;
  std::vector<IpAddress> lb_ips;
  bool itp_local = false;
  bool etp_local = false;
  uint32_t affinity_seconds = 0;
  uint16_t health_check_node_port = 0;
};

std::string NamespaceOf(const bj::object& object) {
  return MetaString(object, "namespace").value_or("default");
}

// clusterIPs, else clusterIP; "" (not allocated yet) is skipped. Sets
// `headless` for "None".
Result<std::vector<IpAddress>> ClusterIps(const Field& spec, bool& headless) {
  std::vector<Field> items = BERTH_TRY(spec["clusterIPs"].Items());
  if (items.empty() && spec["clusterIP"].present()) items.push_back(spec["clusterIP"]);
  std::vector<IpAddress> out;
  for (const Field& item : items) {
    std::string text = BERTH_TRY(item.String());
    if (text == "None") headless = true;
    if (text.empty() || headless) continue;
    out.push_back(BERTH_TRY(IpAddress::Parse(text, item.path())));
  }
  return out;
}

Status ParseFamilies(const Field& spec, Service& svc) {
  for (const Field& item : BERTH_TRY(spec["ipFamilies"].Items())) {
    std::string family = BERTH_TRY(item.String());
    if (family != "IPv4" && family != "IPv6")
      return item.Invalid("unknown IP family \"" + family + "\"");
    svc.has_family[family == "IPv6"] = true;
  }
  if (!svc.has_family[0] && !svc.has_family[1]) {
    for (const IpAddress& ip : svc.cluster_ips)
      svc.has_family[ip.v6] = true;
  }
  // Nothing says which family: let the addresses themselves decide.
  if (!svc.has_family[0] && !svc.has_family[1]) svc.has_family = {true, true};
  return Ok();
}

Status ParsePorts(const Field& spec, Service& svc) {
  for (const Field& item : BERTH_TRY(spec["ports"].Items())) {
    BERTH_TRY(item.ExpectObject());
    std::optional<L4Protocol> protocol = BERTH_TRY(ProtocolOf(item["protocol"]));
    if (!protocol) continue;
    ServicePort port;
    port.name = BERTH_TRY(item["name"].OptString()).value_or("");
    port.protocol = *protocol;
    std::optional<uint16_t> number = BERTH_TRY(OptPort(item["port"]));
    if (!number) return Error(Errc::kInvalidArgument, item["port"].path() + ": required");
    port.port = *number;
    // nodePort 0 asks the apiserver to allocate one: not served yet.
    if (item["nodePort"].present() && BERTH_TRY(item["nodePort"].Int<int64_t>()) != 0)
      port.node_port = BERTH_TRY(OptPort(item["nodePort"])).value_or(0);
    svc.ports.push_back(std::move(port));
  }
  return Ok();
}

Status ParseExternalAddresses(const Field& spec, const Field& status, Service& svc) {
  for (const Field& item : BERTH_TRY(spec["externalIPs"].Items()))
    svc.external_ips.push_back(BERTH_TRY(IpAddress::Parse(BERTH_TRY(item.String()), item.path())));
  for (const Field& item : BERTH_TRY(status["loadBalancer"]["ingress"].Items())) {
    std::optional<std::string> ip = BERTH_TRY(item["ip"].OptString());
    // ipMode Proxy: the load balancer delivers to node IP:nodePort itself.
    if (!ip || BERTH_TRY(item["ipMode"].OptString()) == "Proxy") continue;
    svc.lb_ips.push_back(BERTH_TRY(IpAddress::Parse(*ip, item["ip"].path())));
  }
  return Ok();
}

Result<uint32_t> AffinitySeconds(const Field& spec) {
  std::string affinity = BERTH_TRY(spec["sessionAffinity"].OptString()).value_or("None");
  if (affinity == "None") return 0U;
  if (affinity != "ClientIP")
    return spec["sessionAffinity"].Invalid("unknown session affinity \"" + affinity + "\"");
  Field timeout = spec["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"];
  int64_t seconds = BERTH_TRY(timeout.OptInt<int64_t>()).value_or(kDefaultAffinitySeconds);
  if (seconds < 1 || seconds > kMaxAffinitySeconds)
    return timeout.Invalid(std::to_string(seconds) + " out of range");
  return static_cast<uint32_t>(seconds);
}

// nullopt: a service the proxy leaves alone (ExternalName, headless, or
// claimed by another proxy through service-proxy-name).
Result<std::optional<Service>> ParseService(const bj::object& object) {
  Field spec = Top(object, "spec");
  Field status = Top(object, "status");
  BERTH_TRY(spec.ExpectObject());
  Service svc;
  svc.ns = NamespaceOf(object);
  svc.name = MetaString(object, "name").value_or("");
  if (svc.name.empty()) return Error(Errc::kInvalidArgument, "metadata.name: required");
  svc.type = BERTH_TRY(spec["type"].OptString()).value_or("ClusterIP");
  if (svc.type == "ExternalName" || Label(object, kProxyNameLabel)) return std::optional<Service>();
  bool headless = false;
  svc.cluster_ips = BERTH_TRY(ClusterIps(spec, headless));
  if (headless) return std::optional<Service>();
  BERTH_TRY(ParseFamilies(spec, svc));
  BERTH_TRY(ParsePorts(spec, svc));
  BERTH_TRY(ParseExternalAddresses(spec, status, svc));
  svc.itp_local = BERTH_TRY(PolicyIsLocal(spec["internalTrafficPolicy"]));
  svc.etp_local = BERTH_TRY(PolicyIsLocal(spec["externalTrafficPolicy"]));
  svc.affinity_seconds = BERTH_TRY(AffinitySeconds(spec));
  svc.health_check_node_port = BERTH_TRY(OptPort(spec["healthCheckNodePort"])).value_or(0);
  return std::optional<Service>(std::move(svc));
}

struct Endpoint {
  IpAddress address;
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  bool local = false;
};

struct SlicePort {
  std::string name;
  L4Protocol protocol = L4Protocol::kTcp;
  uint16_t port = 0;
};

struct Slice {
  std::vector<SlicePort> ports;
  std::vector<Endpoint> endpoints;
};

Result<std::vector<SlicePort>> ParseSlicePorts(const Field& ports) {
  std::vector<SlicePort> out;
  for (const Field& item : BERTH_TRY(ports.Items())) {
    std::optional<L4Protocol> protocol = BERTH_TRY(ProtocolOf(item["protocol"]));
    std::optional<uint16_t> number = BERTH_TRY(OptPort(item["port"]));
    // A nil port means "all ports", which only headless services use.
    if (!protocol || !number) continue;
    out.push_back({BERTH_TRY(item["name"].OptString()).value_or(""), *protocol, *number});
  }
  return out;
}

Result<std::optional<Endpoint>> ParseEndpoint(const Field& item, bool v6, const NodeInfo& node) {
  std::vector<Field> addresses = BERTH_TRY(item["addresses"].Items());
  if (addresses.empty()) return std::optional<Endpoint>();
  Endpoint ep;
  // Consumers use the first address, as kube-proxy does.
  ep.address = BERTH_TRY(IpAddress::Parse(BERTH_TRY(addresses[0].String()), addresses[0].path()));
  if (ep.address.v6 != v6)
    return addresses[0].Invalid(ep.address.ToString() + " is not an " + (v6 ? "IPv6" : "IPv4") +
                                " address");
  Field conditions = item["conditions"];
  ep.ready = BERTH_TRY(conditions["ready"].OptBool()).value_or(true);
  ep.serving = BERTH_TRY(conditions["serving"].OptBool()).value_or(ep.ready);
  ep.terminating = BERTH_TRY(conditions["terminating"].OptBool()).value_or(false);
  std::optional<std::string> node_name = BERTH_TRY(item["nodeName"].OptString());
  ep.local = !node.name.empty() && node_name == node.name;
  return std::optional<Endpoint>(ep);
}

// nullopt: not this service's, headless-labelled, or FQDN.
Result<std::optional<Slice>> ParseSlice(const bj::object& object, const Service& svc,
                                        const NodeInfo& node) {
  std::optional<std::string> ns = MetaString(object, "namespace");
  std::optional<std::string> owner = Label(object, kServiceNameLabel);
  if ((ns && *ns != svc.ns) || (owner && *owner != svc.name) || Label(object, kHeadlessLabel))
    return std::optional<Slice>();
  std::string type = BERTH_TRY(Top(object, "addressType").OptString()).value_or("");
  if (type != "IPv4" && type != "IPv6") return std::optional<Slice>();
  Slice slice;
  slice.ports = BERTH_TRY(ParseSlicePorts(Top(object, "ports")));
  for (const Field& item : BERTH_TRY(Top(object, "endpoints").Items())) {
    std::optional<Endpoint> ep = BERTH_TRY(ParseEndpoint(item, type == "IPv6", node));
    if (ep) slice.endpoints.push_back(*ep);
  }
  return std::optional<Slice>(std::move(slice));
}

Result<std::vector<Slice>> ParseSlices(const std::vector<bj::object>& objects, const Service& svc,
                                       const NodeInfo& node) {
  std::vector<Slice> out;
  for (const bj::object& object : objects) {
    std::string name = svc.ns + "/" + MetaString(object, "name").value_or("?");
    std::optional<Slice> slice =
        BERTH_TRY_CTX(ParseSlice(object, svc, node), "EndpointSlice " + name);
    if (slice) out.push_back(std::move(*slice));
  }
  return out;
}

int Rank(const Endpoint& ep) {
  return (ep.ready ? 2 : 0) + (ep.serving ? 1 : 0);
}

using EndpointMap = std::map<std::pair<IpAddress, uint16_t>, Endpoint>;

// The endpoints behind one service port, one per (address, port) across
// slices, the readiest copy winning.
EndpointMap EndpointsFor(const ServicePort& sp, const std::vector<Slice>& slices) {
  EndpointMap out;
  for (const Slice& slice : slices) {
    for (const SlicePort& port : slice.ports) {
      if (port.name != sp.name || port.protocol != sp.protocol) continue;
      for (const Endpoint& ep : slice.endpoints) {
        auto [it, inserted] = out.try_emplace({ep.address, port.port}, ep);
        if (!inserted && Rank(ep) > Rank(it->second)) it->second = ep;
      }
    }
  }
  return out;
}

// CategorizeEndpoints over the endpoints of one family (and, for a Local
// policy, of this node): the ready ones, else the serving terminating ones.
std::vector<Backend> Select(const EndpointMap& endpoints, bool v6, bool local_only) {
  std::vector<Backend> ready;
  std::vector<Backend> terminating;
  for (const auto& [where, ep] : endpoints) {
    if (ep.address.v6 != v6 || (local_only && !ep.local)) continue;
    if (ep.ready)
      ready.push_back({ep.address, where.second, ep.local, false});
    else if (ep.serving && ep.terminating)
      terminating.push_back({ep.address, where.second, ep.local, true});
  }
  std::vector<Backend> out = ready.empty() ? std::move(terminating) : std::move(ready);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct BackendSets {
  std::array<std::vector<Backend>, 2> cluster;  // [v6]
  std::array<std::vector<Backend>, 2> local;
};

class Builder {
 public:
  Builder(const Service& svc, const ServicePort& port, const std::vector<Slice>& slices)
      : svc_(svc), port_(port) {
    EndpointMap endpoints = EndpointsFor(port, slices);
    for (bool v6 : {false, true}) {
      sets_.cluster[v6] = Select(endpoints, v6, false);
      sets_.local[v6] = Select(endpoints, v6, true);
    }
  }

  void Build(const NodeInfo& node, std::map<FrontendKey, Frontend>& out) const {
    for (const IpAddress& ip : svc_.cluster_ips)
      Add(out, ip, port_.port, Scope::kInternal, FrontendKind::kClusterIp, svc_.itp_local);
    if (port_.node_port != 0 && (svc_.type == "NodePort" || svc_.type == "LoadBalancer")) {
      for (const IpAddress& ip : node.addresses)
        AddBothScopes(out, ip, port_.node_port, FrontendKind::kNodePort);
    }
    for (const IpAddress& ip : svc_.external_ips)
      AddBothScopes(out, ip, port_.port, FrontendKind::kExternalIp);
    for (const IpAddress& ip : svc_.lb_ips)
      AddBothScopes(out, ip, port_.port, FrontendKind::kLoadBalancer);
  }

 private:
  // Traffic from the node itself keeps the cluster-wide list; only the
  // external scope follows externalTrafficPolicy.
  void AddBothScopes(std::map<FrontendKey, Frontend>& out, const IpAddress& ip, uint16_t port,
                     FrontendKind kind) const {
    if (!svc_.has_family[ip.v6]) return;
    Add(out, ip, port, Scope::kInternal, kind, false);
    Add(out, ip, port, Scope::kExternal, kind, svc_.etp_local);
  }

  // The first frontend for a key wins: a key repeated within one service
  // (an externalIP listed twice) is one frontend.
  void Add(std::map<FrontendKey, Frontend>& out, const IpAddress& ip, uint16_t port, Scope scope,
           FrontendKind kind, bool local_policy) const {
    Frontend fe;
    fe.key = {ip, port, port_.protocol, scope};
    if (out.contains(fe.key)) return;
    fe.kind = kind;
    fe.service = svc_.ns + "/" + svc_.name;
    fe.port_name = port_.name;
    fe.backends = local_policy ? sets_.local[ip.v6] : sets_.cluster[ip.v6];
    fe.affinity_timeout_seconds = svc_.affinity_seconds;
    fe.local_policy = local_policy;
    out.emplace(fe.key, std::move(fe));
  }

  const Service& svc_;
  const ServicePort& port_;
  BackendSets sets_;
};

}  // namespace

Result<std::vector<Frontend>> FrontendsOf(const boost::json::object& service,
                                          const std::vector<boost::json::object>& slices,
                                          const NodeInfo& node) {
  std::optional<Service> svc = BERTH_TRY(ParseService(service));
  if (!svc) return std::vector<Frontend>();
  std::vector<Slice> parsed = BERTH_TRY(ParseSlices(slices, *svc, node));
  std::map<FrontendKey, Frontend> frontends;
  for (const ServicePort& port : svc->ports)
    Builder(*svc, port, parsed).Build(node, frontends);
  std::vector<Frontend> out;
  out.reserve(frontends.size());
  for (auto& [key, fe] : frontends)
    out.push_back(std::move(fe));
  return out;
}

std::optional<HealthCheck> HealthCheckOf(const boost::json::object& service,
                                         const std::vector<boost::json::object>& slices,
                                         const NodeInfo& node) {
  Result<std::optional<Service>> svc = ParseService(service);
  if (!svc.ok() || !*svc || !(*svc)->etp_local || (*svc)->health_check_node_port == 0)
    return std::nullopt;
  Result<std::vector<Slice>> parsed = ParseSlices(slices, **svc, node);
  if (!parsed.ok()) return std::nullopt;
  std::set<IpAddress> local_ready;
  for (const Slice& slice : *parsed) {
    for (const Endpoint& ep : slice.endpoints) {
      if (ep.local && ep.ready) local_ready.insert(ep.address);
    }
  }
  HealthCheck hc;
  hc.service = (*svc)->ns + "/" + (*svc)->name;
  hc.node_port = (*svc)->health_check_node_port;
  hc.local_endpoints = static_cast<int>(local_ready.size());
  return hc;
}

}  // namespace berth::proxy
