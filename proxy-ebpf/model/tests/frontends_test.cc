// FrontendsOf and HealthCheckOf on inline Service/EndpointSlice fixtures:
// every frontend kind and scope, the traffic policies, the ready/terminating
// fallback, dual stack, port matching, ignored services, and errors that
// name the field.

#include "proxy-ebpf/model/frontends.h"

#include <gtest/gtest.h>

namespace berth::proxy {
namespace {

namespace bj = boost::json;

bj::object Obj(std::string_view text) {
  return bj::parse(text).as_object();
}

IpAddress Ip(std::string_view text) {
  Result<IpAddress> ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.ok()) << text;
  return std::move(ip).value_or(IpAddress{});
}

Backend B(std::string_view ip, uint16_t port, bool local = false, bool terminating = false) {
  return {Ip(ip), port, local, terminating};
}

const NodeInfo kNode{"node-a", {Ip("192.168.1.10"), Ip("fd00::10")}};

// web: ClusterIP 10.96.0.10, port http 80 -> slice port 8080.
constexpr std::string_view kWeb = R"({
  "metadata": {"name": "web", "namespace": "shop"},
  "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
           "ipFamilies": ["IPv4"], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}
})";

constexpr std::string_view kWebSlice = R"({
  "metadata": {"name": "web-abc", "namespace": "shop",
               "labels": {"kubernetes.io/service-name": "web"}},
  "addressType": "IPv4",
  "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
  "endpoints": [
    {"addresses": ["10.0.2.2"], "conditions": {"ready": true}, "nodeName": "node-b"},
    {"addresses": ["10.0.1.1"], "conditions": {"ready": true}, "nodeName": "node-a"},
    {"addresses": ["10.0.3.3"], "conditions": {"ready": false}, "nodeName": "node-a"}
  ]
})";

// The service of kWeb with `patch` merged into its spec.
bj::object Web(std::string_view patch = "{}") {
  bj::object svc = Obj(kWeb);
  for (const auto& kv : Obj(patch))
    svc["spec"].as_object()[kv.key()] = kv.value();
  return svc;
}

std::vector<Frontend> Frontends(const bj::object& svc, const std::vector<bj::object>& slices,
                                const NodeInfo& node = kNode) {
  Result<std::vector<Frontend>> r = FrontendsOf(svc, slices, node);
  EXPECT_TRUE(r.ok()) << r.error().str();
  return std::move(r).value_or({});
}

const Frontend* Find(const std::vector<Frontend>& fes, std::string_view ip, uint16_t port,
                     Scope scope = Scope::kInternal, L4Protocol protocol = L4Protocol::kTcp) {
  FrontendKey key{Ip(ip), port, protocol, scope};
  for (const Frontend& fe : fes) {
    if (fe.key == key) return &fe;
  }
  return nullptr;
}

std::string ErrorOf(const bj::object& svc, const std::vector<bj::object>& slices = {}) {
  Result<std::vector<Frontend>> r = FrontendsOf(svc, slices, kNode);
  if (r.ok()) return "ok";
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
  return r.error().str();
}

TEST(IpAddressTest, ParseAndPrint) {
  IpAddress v4 = Ip("10.96.0.1");
  EXPECT_FALSE(v4.v6);
  EXPECT_EQ(v4.bytes[0], 10);
  EXPECT_EQ(v4.bytes[3], 1);
  EXPECT_EQ(v4.bytes[4], 0);
  EXPECT_EQ(v4.ToString(), "10.96.0.1");
  IpAddress v6 = Ip("FD00:0::1");
  EXPECT_TRUE(v6.v6);
  EXPECT_EQ(v6.ToString(), "fd00::1");
  Result<IpAddress> bad = IpAddress::Parse("10.0.0.x", "spec.clusterIP");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().str(), R"(spec.clusterIP: "10.0.0.x" is not an IP address)");
  EXPECT_FALSE(IpAddress::Parse("").ok());
  EXPECT_LT(Ip("10.0.0.1"), Ip("10.0.0.2"));
  EXPECT_EQ(L4Name(L4Protocol::kUdp), "UDP");
  EXPECT_EQ(FrontendKindName(FrontendKind::kLoadBalancer), "LoadBalancer");
  EXPECT_EQ(FrontendKindName(FrontendKind::kClusterIp), "ClusterIP");
}

TEST(FrontendsTest, ClusterIpUsesReadyEndpoints) {
  std::vector<Frontend> fes = Frontends(Web(), {Obj(kWebSlice)});
  ASSERT_EQ(fes.size(), 1U);
  const Frontend& fe = fes[0];
  EXPECT_EQ(fe.key, (FrontendKey{Ip("10.96.0.10"), 80, L4Protocol::kTcp, Scope::kInternal}));
  EXPECT_EQ(fe.kind, FrontendKind::kClusterIp);
  EXPECT_EQ(fe.service, "shop/web");
  EXPECT_EQ(fe.port_name, "http");
  EXPECT_EQ(fe.affinity_timeout_seconds, 0U);
  EXPECT_FALSE(fe.local_policy);
  EXPECT_EQ(fe.backends, (std::vector<Backend>{B("10.0.1.1", 8080, true), B("10.0.2.2", 8080)}));
}

TEST(FrontendsTest, NoSlicesMeansNoBackends) {
  std::vector<Frontend> fes = Frontends(Web(), {});
  ASSERT_EQ(fes.size(), 1U);
  EXPECT_TRUE(fes[0].backends.empty());
}

TEST(FrontendsTest, InternalTrafficPolicyLocal) {
  std::vector<Frontend> fes =
      Frontends(Web(R"({"internalTrafficPolicy": "Local"})"), {Obj(kWebSlice)});
  ASSERT_EQ(fes.size(), 1U);
  EXPECT_TRUE(fes[0].local_policy);
  EXPECT_EQ(fes[0].backends, (std::vector<Backend>{B("10.0.1.1", 8080, true)}));
}

TEST(FrontendsTest, NodePortBothScopes) {
  bj::object svc = Web(R"({"type": "NodePort",
      "ports": [{"name": "http", "port": 80, "nodePort": 30080}]})");
  std::vector<Frontend> fes = Frontends(svc, {Obj(kWebSlice)});
  // ClusterIP + NodePort on the node's IPv4 address in two scopes; the
  // node's IPv6 address is not of the service's family.
  ASSERT_EQ(fes.size(), 3U);
  const Frontend* internal = Find(fes, "192.168.1.10", 30080, Scope::kInternal);
  const Frontend* external = Find(fes, "192.168.1.10", 30080, Scope::kExternal);
  ASSERT_TRUE(internal && external);
  EXPECT_EQ(internal->kind, FrontendKind::kNodePort);
  EXPECT_EQ(external->kind, FrontendKind::kNodePort);
  EXPECT_EQ(internal->backends.size(), 2U);
  EXPECT_EQ(external->backends.size(), 2U);
  EXPECT_FALSE(external->local_policy);
  EXPECT_EQ(Find(fes, "fd00::10", 30080, Scope::kExternal), nullptr);
}

TEST(FrontendsTest, NodePortNeedsNodePortType) {
  bj::object svc = Web(R"({"ports": [{"name": "http", "port": 80, "nodePort": 30080}]})");
  EXPECT_EQ(Frontends(svc, {Obj(kWebSlice)}).size(), 1U);
}

TEST(FrontendsTest, ExternalTrafficPolicyLocalNarrowsExternalScopeOnly) {
  bj::object svc = Web(R"({"type": "NodePort", "externalTrafficPolicy": "Local",
      "internalTrafficPolicy": "Cluster",
      "ports": [{"name": "http", "port": 80, "nodePort": 30080}]})");
  std::vector<Frontend> fes = Frontends(svc, {Obj(kWebSlice)});
  const Frontend* internal = Find(fes, "192.168.1.10", 30080, Scope::kInternal);
  const Frontend* external = Find(fes, "192.168.1.10", 30080, Scope::kExternal);
  const Frontend* cluster_ip = Find(fes, "10.96.0.10", 80);
  ASSERT_TRUE(internal && external && cluster_ip);
  EXPECT_EQ(internal->backends.size(), 2U);
  EXPECT_FALSE(internal->local_policy);
  EXPECT_EQ(external->backends, (std::vector<Backend>{B("10.0.1.1", 8080, true)}));
  EXPECT_TRUE(external->local_policy);
  EXPECT_EQ(cluster_ip->backends.size(), 2U);
}

TEST(FrontendsTest, ExternalIpsAndLoadBalancerIngress) {
  bj::object svc = Web(R"({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
      "externalIPs": ["203.0.113.5"],
      "ports": [{"name": "http", "port": 80}]})");
  svc["status"] = bj::parse(R"({"loadBalancer": {"ingress": [
      {"ip": "198.51.100.7", "ipMode": "VIP"}, {"ip": "198.51.100.8", "ipMode": "Proxy"},
      {"hostname": "lb.example.com"}, {"ip": "2001:db8::7"}]}})");
  std::vector<Frontend> fes = Frontends(svc, {Obj(kWebSlice)});
  // ClusterIP + 2 scopes x (externalIP, LB VIP). No nodePort allocated; the
  // Proxy-mode and hostname entries and the IPv6 one (no IPv6 family) skipped.
  ASSERT_EQ(fes.size(), 5U);
  for (Scope scope : {Scope::kInternal, Scope::kExternal}) {
    const Frontend* ext = Find(fes, "203.0.113.5", 80, scope);
    const Frontend* lb = Find(fes, "198.51.100.7", 80, scope);
    ASSERT_TRUE(ext && lb);
    EXPECT_EQ(ext->kind, FrontendKind::kExternalIp);
    EXPECT_EQ(lb->kind, FrontendKind::kLoadBalancer);
    size_t want = scope == Scope::kExternal ? 1 : 2;
    EXPECT_EQ(ext->backends.size(), want);
    EXPECT_EQ(lb->backends.size(), want);
    EXPECT_EQ(lb->local_policy, scope == Scope::kExternal);
  }
  EXPECT_EQ(Find(fes, "198.51.100.8", 80), nullptr);
}

TEST(FrontendsTest, TerminatingFallbackOnlyWithoutReadyEndpoints) {
  bj::object slice = Obj(R"({
    "metadata": {"name": "web-t", "namespace": "shop",
                 "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4", "ports": [{"name": "http", "port": 8080}],
    "endpoints": [
      {"addresses": ["10.0.1.1"], "nodeName": "node-a",
       "conditions": {"ready": false, "serving": true, "terminating": true}},
      {"addresses": ["10.0.2.2"], "nodeName": "node-b",
       "conditions": {"ready": false, "serving": false, "terminating": true}},
      {"addresses": ["10.0.4.4"], "nodeName": "node-b",
       "conditions": {"ready": false, "serving": true}}
    ]})");
  std::vector<Frontend> fes = Frontends(Web(), {slice});
  ASSERT_EQ(fes.size(), 1U);
  EXPECT_EQ(fes[0].backends, (std::vector<Backend>{B("10.0.1.1", 8080, true, true)}));

  // One ready endpoint anywhere: the terminating ones are not used.
  slice["endpoints"].as_array().push_back(
      bj::parse(R"({"addresses": ["10.0.5.5"], "nodeName": "node-b"})"));  // nil = ready
  fes = Frontends(Web(), {slice});
  EXPECT_EQ(fes[0].backends, (std::vector<Backend>{B("10.0.5.5", 8080)}));

  // The local set falls back on its own: node-a has only a terminating one.
  fes = Frontends(Web(R"({"internalTrafficPolicy": "Local"})"), {slice});
  EXPECT_EQ(fes[0].backends, (std::vector<Backend>{B("10.0.1.1", 8080, true, true)}));
}

TEST(FrontendsTest, DualStack) {
  bj::object svc = Web(R"({"type": "NodePort", "clusterIPs": ["10.96.0.10", "fd00:96::10"],
      "ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "PreferDualStack",
      "ports": [{"name": "http", "port": 80, "nodePort": 30080}]})");
  bj::object v6 = Obj(R"({
    "metadata": {"name": "web-v6", "namespace": "shop",
                 "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv6", "ports": [{"name": "http", "port": 8080}],
    "endpoints": [{"addresses": ["fd00:1::1"], "nodeName": "node-a"}]})");
  std::vector<Frontend> fes = Frontends(svc, {Obj(kWebSlice), v6});
  ASSERT_EQ(fes.size(), 6U);  // 2 ClusterIPs + 2 node addresses x 2 scopes
  const Frontend* c4 = Find(fes, "10.96.0.10", 80);
  const Frontend* c6 = Find(fes, "fd00:96::10", 80);
  const Frontend* n6 = Find(fes, "fd00::10", 30080, Scope::kExternal);
  const Frontend* n4 = Find(fes, "192.168.1.10", 30080, Scope::kExternal);
  ASSERT_TRUE(c4 && c6 && n6 && n4);
  EXPECT_EQ(c4->backends, (std::vector<Backend>{B("10.0.1.1", 8080, true), B("10.0.2.2", 8080)}));
  EXPECT_EQ(c6->backends, (std::vector<Backend>{B("fd00:1::1", 8080, true)}));
  EXPECT_EQ(n6->backends, c6->backends);
  EXPECT_EQ(n4->backends, c4->backends);
}

TEST(FrontendsTest, FamiliesFromClusterIpsWithoutIpFamilies) {
  bj::object svc = Obj(R"({"metadata": {"name": "web", "namespace": "shop"},
    "spec": {"type": "NodePort", "clusterIP": "fd00:96::10",
             "ports": [{"name": "http", "port": 80, "nodePort": 30080}]}})");
  std::vector<Frontend> fes = Frontends(svc, {});
  ASSERT_EQ(fes.size(), 3U);
  EXPECT_NE(Find(fes, "fd00::10", 30080, Scope::kExternal), nullptr);
}

TEST(FrontendsTest, MultiplePortsMatchByNameAndProtocol) {
  bj::object svc = Web(R"({"ports": [
      {"name": "http", "port": 80, "protocol": "TCP"},
      {"name": "metrics", "port": 9090},
      {"name": "dns", "port": 53, "protocol": "UDP"},
      {"name": "sig", "port": 7000, "protocol": "SCTP"}]})");
  bj::object slice = Obj(R"({
    "metadata": {"name": "web-p", "namespace": "shop",
                 "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4",
    "ports": [{"name": "metrics", "port": 9100, "protocol": "TCP"},
              {"name": "http", "port": 8080},
              {"name": "dns", "port": 5353, "protocol": "UDP"},
              {"name": "http", "port": 8443, "protocol": "UDP"},
              {"name": "sig", "port": 7001, "protocol": "SCTP"}],
    "endpoints": [{"addresses": ["10.0.1.1"]}]})");
  std::vector<Frontend> fes = Frontends(svc, {slice});
  ASSERT_EQ(fes.size(), 3U);  // SCTP skipped without error
  const Frontend* http = Find(fes, "10.96.0.10", 80);
  const Frontend* metrics = Find(fes, "10.96.0.10", 9090);
  const Frontend* dns = Find(fes, "10.96.0.10", 53, Scope::kInternal, L4Protocol::kUdp);
  ASSERT_TRUE(http && metrics && dns);
  EXPECT_EQ(http->backends, (std::vector<Backend>{B("10.0.1.1", 8080)}));
  EXPECT_EQ(metrics->backends, (std::vector<Backend>{B("10.0.1.1", 9100)}));
  EXPECT_EQ(metrics->port_name, "metrics");
  EXPECT_EQ(dns->backends, (std::vector<Backend>{B("10.0.1.1", 5353)}));
}

TEST(FrontendsTest, UnnamedPortsMatch) {
  bj::object svc = Web(R"({"ports": [{"port": 80}]})");
  bj::object slice = Obj(R"({
    "metadata": {"name": "web-u", "namespace": "shop",
                 "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4", "ports": [{"port": 8080, "protocol": "TCP"}],
    "endpoints": [{"addresses": ["10.0.1.1"], "conditions": {}}]})");
  std::vector<Frontend> fes = Frontends(svc, {slice});
  ASSERT_EQ(fes.size(), 1U);
  EXPECT_EQ(fes[0].port_name, "");
  EXPECT_EQ(fes[0].backends, (std::vector<Backend>{B("10.0.1.1", 8080)}));
  // A named slice port is not the unnamed service port.
  slice["ports"] = bj::parse(R"([{"name": "http", "port": 8080}])");
  EXPECT_TRUE(Frontends(svc, {slice})[0].backends.empty());
}

TEST(FrontendsTest, DuplicateEndpointsAcrossSlicesPreferReady) {
  bj::object a = Obj(kWebSlice);
  bj::object b = Obj(R"({
    "metadata": {"name": "web-dup", "namespace": "shop",
                 "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4", "ports": [{"name": "http", "port": 8080}],
    "endpoints": [{"addresses": ["10.0.3.3"], "conditions": {"ready": true}},
                  {"addresses": ["10.0.2.2"], "conditions": {"ready": false}}]})");
  std::vector<Frontend> fes = Frontends(Web(), {a, b});
  ASSERT_EQ(fes.size(), 1U);
  EXPECT_EQ(fes[0].backends, (std::vector<Backend>{B("10.0.1.1", 8080, true), B("10.0.2.2", 8080),
                                                   B("10.0.3.3", 8080)}));
}

TEST(FrontendsTest, IgnoredServicesAndSlices) {
  EXPECT_TRUE(Frontends(Web(R"({"clusterIP": "None", "clusterIPs": ["None"]})"), {}).empty());
  EXPECT_TRUE(Frontends(Web(R"({"type": "ExternalName", "externalName": "example.com",
                               "clusterIP": "", "clusterIPs": []})"),
                        {})
                  .empty());
  bj::object proxied = Web();
  proxied["metadata"].as_object()["labels"] =
      bj::parse(R"({"service.kubernetes.io/service-proxy-name": "other"})");
  EXPECT_TRUE(Frontends(proxied, {Obj(kWebSlice)}).empty());

  bj::object headless_slice = Obj(kWebSlice);
  headless_slice["metadata"].as_object()["labels"].as_object()["service.kubernetes.io/headless"] =
      "";
  bj::object fqdn = Obj(kWebSlice);
  fqdn["addressType"] = "FQDN";
  fqdn["endpoints"] = bj::parse(R"([{"addresses": ["web.example.com"]}])");
  bj::object other = Obj(kWebSlice);
  other["metadata"].as_object()["labels"].as_object()["kubernetes.io/service-name"] = "api";
  std::vector<Frontend> fes = Frontends(Web(), {headless_slice, fqdn, other});
  ASSERT_EQ(fes.size(), 1U);
  EXPECT_TRUE(fes[0].backends.empty());
}

TEST(FrontendsTest, SessionAffinity) {
  std::vector<Frontend> fes = Frontends(Web(R"({"sessionAffinity": "ClientIP"})"), {});
  EXPECT_EQ(fes[0].affinity_timeout_seconds, 10800U);
  fes = Frontends(Web(R"({"sessionAffinity": "ClientIP",
                          "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}})"),
                  {});
  EXPECT_EQ(fes[0].affinity_timeout_seconds, 60U);
  fes = Frontends(Web(R"({"sessionAffinity": "None"})"), {});
  EXPECT_EQ(fes[0].affinity_timeout_seconds, 0U);
}

TEST(FrontendsTest, BadInputNamesTheField) {
  EXPECT_EQ(ErrorOf(Web(R"({"clusterIPs": ["10.96.0.10", "10.0.0.x"]})")),
            R"(spec.clusterIPs[1]: "10.0.0.x" is not an IP address)");
  EXPECT_EQ(ErrorOf(Web(R"({"ports": [{"port": 70000}]})")),
            "spec.ports[0].port: 70000 out of range");
  EXPECT_EQ(ErrorOf(Web(R"({"ports": [{"port": 80}, {"port": 81, "nodePort": -1}]})")),
            "spec.ports[1].nodePort: -1 out of range");
  EXPECT_EQ(ErrorOf(Web(R"({"ports": [{"port": 80, "protocol": "ICMP"}]})")),
            R"(spec.ports[0].protocol: unknown protocol "ICMP")");
  EXPECT_EQ(ErrorOf(Web(R"({"ports": [{"port": "eighty"}]})")),
            "spec.ports[0].port: expected integer, got string");
  EXPECT_EQ(ErrorOf(Web(R"({"externalIPs": ["1.2.3"]})")),
            R"(spec.externalIPs[0]: "1.2.3" is not an IP address)");
  EXPECT_EQ(ErrorOf(Web(R"({"externalTrafficPolicy": "Nearby"})")),
            R"(spec.externalTrafficPolicy: unknown traffic policy "Nearby")");
  EXPECT_EQ(ErrorOf(Web(R"({"sessionAffinity": "ClientIP",
                           "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}}})")),
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 out of range");
  bj::object lb = Web();
  lb["status"] = bj::parse(R"({"loadBalancer": {"ingress": [{"ip": "nope"}]}})");
  EXPECT_EQ(ErrorOf(lb), R"(status.loadBalancer.ingress[0].ip: "nope" is not an IP address)");

  bj::object slice = Obj(kWebSlice);
  slice["endpoints"].as_array()[1].as_object()["addresses"] = bj::parse(R"(["fd00::1"])");
  EXPECT_EQ(
      ErrorOf(Web(), {slice}),
      "EndpointSlice shop/web-abc: endpoints[1].addresses[0]: fd00::1 is not an IPv4 address");
  // Missing optional fields are fine.
  EXPECT_EQ(ErrorOf(Obj(R"({"metadata": {"name": "bare"}, "spec": {}})")), "ok");
}

TEST(HealthCheckTest, OnlyForLocalExternalPolicyWithPort) {
  bj::object svc = Web(R"({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
      "healthCheckNodePort": 32000,
      "ports": [{"name": "http", "port": 80}, {"name": "alt", "port": 81}]})");
  bj::object slice = Obj(kWebSlice);
  slice["ports"].as_array().push_back(bj::parse(R"({"name": "alt", "port": 8081})"));
  slice["endpoints"].as_array().push_back(
      bj::parse(R"({"addresses": ["10.0.1.9"], "nodeName": "node-a",
                    "conditions": {"ready": false, "serving": true, "terminating": true}})"));
  std::optional<HealthCheck> hc = HealthCheckOf(svc, {slice, slice}, kNode);
  ASSERT_TRUE(hc.has_value());
  EXPECT_EQ(*hc, (HealthCheck{"shop/web", 32000, 1}));  // 10.0.1.1 only, counted once

  EXPECT_FALSE(HealthCheckOf(Web(R"({"healthCheckNodePort": 32000})"), {slice}, kNode));
  EXPECT_FALSE(HealthCheckOf(Web(R"({"externalTrafficPolicy": "Local"})"), {slice}, kNode));
}

}  // namespace
}  // namespace berth::proxy
