// Load balancing of traffic from outside the node on a real kernel: the TC
// programs of bpf/tc_lb.bpf.c on the node's uplink, fed with the frontends
// kube-proxy's rules (model/) make of a NodePort Service. The test's own
// netns is the node; an "external host" netns joins it by a veth and also
// holds a "remote node" address with a backend of another node. Local
// backends run in a pod netns and on the node itself. Acceptance 2 of
// issue 8 at the dataplane level. The socket programs are attached to an
// empty cgroup only, so no connect() here is translated by them.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/json.hpp>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "proxy-ebpf/loader/dataplane.h"
#include "proxy-ebpf/maps/lb_maps.h"
#include "proxy-ebpf/model/frontends.h"
#include "proxy-ebpf/sync/health_check_servers.h"
#include "proxy-ebpf/tests/lb_fixture.h"

namespace berth::proxy {
namespace {

using testing::ProbeTcp;
using testing::ProbeUdp;

constexpr const char* kNodeAddress = testing::kExternalNodeAddress;      // the node's uplink
constexpr const char* kClient = testing::kExternalClient;                // the external host
constexpr const char* kRemoteBackend = testing::kExternalRemoteAddress;  // another node's pod
constexpr const char* kPodBackend = "10.251.0.2";                        // a pod of this node
constexpr const char* kHostBackend = "10.250.0.1";                       // hostNetwork on this node
constexpr const char* kPodBackend6 = "fd51::2";
constexpr const char* kHostBackend6 = "fd50::1";
constexpr uint16_t kNodePort = 30080;
constexpr uint16_t kHealthPort = 32080;

struct EndpointSpec {
  std::string address;
  std::string node;
};

boost::json::object NodePortService(bool local, const std::string& protocol = "TCP",
                                    bool v6 = false) {
  const char* cluster_ip = v6 ? "fd00::30" : "10.96.0.30";
  boost::json::object spec{
      {"type", "NodePort"},
      {"clusterIP", cluster_ip},
      {"clusterIPs", {cluster_ip}},
      {"ipFamilies", {v6 ? "IPv6" : "IPv4"}},
      {"ports", {{{"name", "web"}, {"port", 80}, {"protocol", protocol}, {"nodePort", kNodePort}}}},
      {"externalTrafficPolicy", local ? "Local" : "Cluster"}};
  if (local) spec["healthCheckNodePort"] = kHealthPort;
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec", spec}};
}

boost::json::object Slice(const std::vector<EndpointSpec>& endpoints,
                          const std::string& protocol = "TCP", bool v6 = false) {
  boost::json::array items;
  for (const EndpointSpec& e : endpoints)
    items.push_back(
        {{"addresses", {e.address}}, {"conditions", {{"ready", true}}}, {"nodeName", e.node}});
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata",
           {{"name", "web-1"},
            {"namespace", "default"},
            {"labels", {{"kubernetes.io/service-name", "web"}}}}},
          {"addressType", v6 ? "IPv6" : "IPv4"},
          {"endpoints", items},
          {"ports", {{{"name", "web"}, {"port", 8080}, {"protocol", protocol}}}}};
}

NodeInfo ThisNode() {
  return {"node-a",
          {*IpAddress::Parse(kNodeAddress), *IpAddress::Parse(testing::kExternalNodeAddress6)}};
}

class TcLbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root (BPF, netns, tc)");
    ASSERT_TRUE(WriteExisting("/proc/sys/net/ipv4/ip_forward", "1").ok());
    ASSERT_TRUE(WriteExisting("/proc/sys/net/ipv6/conf/all/forwarding", "1").ok());
    ASSERT_TRUE(
        testing::Ip("-6 addr add " + std::string(kHostBackend6) + "/128 dev lo nodad").ok());
    ASSERT_TRUE(testing::Ip("addr add " + std::string(kHostBackend) + "/32 dev lo").ok());
    auto ext = testing::CreateExternalHost(dir_.path());
    ASSERT_TRUE(ext.ok()) << ext.error().str();
    ext_ = *ext;
    auto pod = testing::CreatePodNetns(dir_.path());
    ASSERT_TRUE(pod.ok()) << pod.error().str();
    pod_ = *pod;

    auto bpffs = testing::TestBpffs::Mount();
    ASSERT_TRUE(bpffs.ok()) << bpffs.error().str();
    bpffs_ = std::move(*bpffs);
    auto cgroup = testing::TestCgroup::Create(/*join=*/false, "tc");
    ASSERT_TRUE(cgroup.ok()) << cgroup.error().str();
    cgroup_ = std::move(*cgroup);
    OpenDataplane();
  }

  void TearDown() override {
    Status removed = loaded_.Remove();
    EXPECT_TRUE(removed.ok()) << removed.error().str();
    cgroup_.reset();
    bpffs_.reset();
    testing::RemoveExternalHost(ext_);
    testing::RemovePodNetns(pod_);
    (void)testing::Ip("addr del " + std::string(kHostBackend) + "/32 dev lo");
    (void)testing::Ip("-6 addr del " + std::string(kHostBackend6) + "/128 dev lo");
  }

  void OpenDataplane() {
    DataplaneConfig config =
        testing::TestDataplane::SmallConfig(bpffs_->PinDir(), {cgroup_->path()});
    config.tc_devices = {"vext0"};
    Status opened = loaded_.Open(config);
    ASSERT_TRUE(opened.ok()) << opened.error().str();
  }

  void Program(const boost::json::object& service, const boost::json::object& slice) {
    auto frontends = FrontendsOf(service, {slice}, ThisNode());
    ASSERT_TRUE(frontends.ok()) << frontends.error().str();
    Status ok = loaded_.maps().Replace(*frontends);
    ASSERT_TRUE(ok.ok()) << ok.error().str();
  }

  berth::testing::TempDir dir_{"berth-tc"};
  std::string ext_;
  std::string pod_;
  std::unique_ptr<testing::TestBpffs> bpffs_;
  std::unique_ptr<testing::TestCgroup> cgroup_;
  testing::TestDataplane loaded_;
};

// "<backend> <the client address it saw>" -> count, as the echo servers
// answer with report_peer.
void ExpectSpread(const testing::ProbeResult& result, const std::map<std::string, int>& expected,
                  int total) {
  EXPECT_TRUE(result.errors.empty())
      << "first errno " << result.errors.begin()->first << " x" << result.errors.begin()->second;
  EXPECT_EQ(result.peer_mismatches, 0) << "the client must see the NodePort as its peer";
  ASSERT_EQ(result.backends.size(), expected.size());
  for (const auto& [answer, share_of] : expected) {
    auto it = result.backends.find(answer);
    ASSERT_NE(it, result.backends.end()) << "no answer \"" << answer << "\"";
    double share = static_cast<double>(total) / share_of;
    EXPECT_NEAR(it->second, share, share * 0.2) << answer;
  }
}

TEST_F(TcLbTest, NodePortFromOutsideReachesLocalAndRemoteBackends) {
  auto pod = testing::EchoServers::Start({kPodBackend}, 8080, false, pod_, true);
  auto host = testing::EchoServers::Start({kHostBackend}, 8080, false, "", true);
  auto remote = testing::EchoServers::Start({kRemoteBackend}, 8080, false, ext_, true);
  ASSERT_TRUE(pod.ok() && host.ok() && remote.ok());
  Program(NodePortService(false),
          Slice({{kPodBackend, "node-a"}, {kHostBackend, "node-a"}, {kRemoteBackend, "node-b"}}));

  testing::ProbeResult result = ProbeTcp(kNodeAddress, kNodePort, 1000, ext_);
  // Local backends see the client itself; the remote one sees the node
  // (SNAT), so that its replies come back through the node.
  ExpectSpread(result,
               {{std::string(kPodBackend) + " " + kClient, 3},
                {std::string(kHostBackend) + " " + kClient, 3},
                {std::string(kRemoteBackend) + " " + kNodeAddress, 3}},
               1000);
}

TEST_F(TcLbTest, Ipv6NodePortReachesLocalAndRemoteBackends) {
  const std::string node6 = testing::kExternalNodeAddress6;
  const std::string client6 = testing::kExternalClient6;
  const std::string remote6 = testing::kExternalRemoteAddress6;
  auto pod = testing::EchoServers::Start({kPodBackend6}, 8080, false, pod_, true);
  auto host = testing::EchoServers::Start({kHostBackend6}, 8080, false, "", true);
  auto remote = testing::EchoServers::Start({remote6}, 8080, false, ext_, true);
  ASSERT_TRUE(pod.ok() && host.ok() && remote.ok());
  Program(NodePortService(false, "TCP", true),
          Slice({{kPodBackend6, "node-a"}, {kHostBackend6, "node-a"}, {remote6, "node-b"}}, "TCP",
                true));

  testing::ProbeResult result = ProbeTcp(node6, kNodePort, 1000, ext_);
  ExpectSpread(result,
               {{std::string(kPodBackend6) + " " + client6, 3},
                {std::string(kHostBackend6) + " " + client6, 3},
                {remote6 + " " + node6, 3}},
               1000);
}

TEST_F(TcLbTest, UdpNodePortRoundTripsWithTheNodePortAsSource) {
  auto pod = testing::EchoServers::Start({kPodBackend}, 8053, true, pod_, true);
  auto remote = testing::EchoServers::Start({kRemoteBackend}, 8053, true, ext_, true);
  ASSERT_TRUE(pod.ok() && remote.ok());
  boost::json::object slice = Slice({{kPodBackend, "node-a"}, {kRemoteBackend, "node-b"}}, "UDP");
  slice["ports"] = {{{"name", "web"}, {"port", 8053}, {"protocol", "UDP"}}};
  Program(NodePortService(false, "UDP"), slice);

  // Unconnected: recvfrom must report the NodePort, or a DNS client would
  // drop the answer.
  testing::ProbeResult result = ProbeUdp(kNodeAddress, kNodePort, 200, false, ext_);
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.peer_mismatches, 0);
  int answered = 0;
  for (const auto& [answer, count] : result.backends)
    answered += count;
  EXPECT_EQ(answered, 200);
  EXPECT_TRUE(result.backends.count(std::string(kPodBackend) + " " + kClient));
  EXPECT_TRUE(result.backends.count(std::string(kRemoteBackend) + " " + kNodeAddress));
}

TEST_F(TcLbTest, ExternalTrafficPolicyLocalKeepsTheClientAddressAndOnlyLocalBackends) {
  auto pod = testing::EchoServers::Start({kPodBackend}, 8080, false, pod_, true);
  auto remote = testing::EchoServers::Start({kRemoteBackend}, 8080, false, ext_, true);
  ASSERT_TRUE(pod.ok() && remote.ok());
  boost::json::object service = NodePortService(true);
  boost::json::object slice = Slice({{kPodBackend, "node-a"}, {kRemoteBackend, "node-b"}});
  Program(service, slice);
  HealthCheckServers health("0.0.0.0");
  auto check = HealthCheckOf(service, {slice}, ThisNode());
  ASSERT_TRUE(check.has_value());
  health.Update({*check});

  testing::ProbeResult result = ProbeTcp(kNodeAddress, kNodePort, 200, ext_);
  ExpectSpread(result, {{std::string(kPodBackend) + " " + kClient, 1}}, 200);
  Result<std::string> healthy = testing::HttpGet(kNodeAddress, kHealthPort, "/", ext_);
  ASSERT_TRUE(healthy.ok()) << healthy.error().str();
  EXPECT_TRUE(healthy->starts_with("HTTP/1.1 200")) << *healthy;
  EXPECT_NE(healthy->find("\"localEndpoints\":1"), std::string::npos) << *healthy;
  EXPECT_NE(healthy->find("\"name\":\"web\""), std::string::npos) << *healthy;

  // This node without a local endpoint: the NodePort refuses (the client
  // gets a RST at once, no hang) and the health check says 503, so a load
  // balancer stops sending here.
  slice = Slice({{kRemoteBackend, "node-b"}});
  Program(service, slice);
  check = HealthCheckOf(service, {slice}, ThisNode());
  ASSERT_TRUE(check.has_value());
  health.Update({*check});
  testing::ProbeResult refused = ProbeTcp(kNodeAddress, kNodePort, 20, ext_);
  EXPECT_EQ(refused.errors[ECONNREFUSED], 20);
  EXPECT_TRUE(refused.backends.empty());
  Result<std::string> unhealthy = testing::HttpGet(kNodeAddress, kHealthPort, "/", ext_);
  ASSERT_TRUE(unhealthy.ok()) << unhealthy.error().str();
  EXPECT_TRUE(unhealthy->starts_with("HTTP/1.1 503")) << *unhealthy;
  EXPECT_NE(unhealthy->find("\"localEndpoints\":0"), std::string::npos) << *unhealthy;

  // No longer Local: the server goes away with the policy.
  health.Update({});
  EXPECT_FALSE(testing::HttpGet(kNodeAddress, kHealthPort, "/", ext_).ok());
}

TEST_F(TcLbTest, ARestartReplacesTheFiltersInPlaceAndCleanupDetachesThem) {
  auto pod = testing::EchoServers::Start({kPodBackend}, 8080, false, pod_, true);
  ASSERT_TRUE(pod.ok());
  Program(NodePortService(false), Slice({{kPodBackend, "node-a"}}));
  // berth's filters on vext0 in `direction`, by their fixed handle.
  auto berth_filters = [](const char* direction) {
    Command show;
    show.argv = {"tc", "filter", "show", "dev", "vext0", direction};
    Result<CommandResult> filters = RunCommand(show);
    EXPECT_TRUE(filters.ok() && filters->success());
    int n = 0;
    for (size_t at = 0;
         filters.ok() && (at = filters->out.find("handle 0xbe47", at)) != std::string::npos; ++at)
      ++n;
    return n;
  };
  EXPECT_EQ(berth_filters("ingress"), 1);
  EXPECT_EQ(berth_filters("egress"), 1);
  OpenDataplane();  // a restarted proxy: same pins, filters replaced
  EXPECT_TRUE(loaded_.dataplane().adopted());
  EXPECT_EQ(berth_filters("ingress"), 1);
  EXPECT_EQ(berth_filters("egress"), 1);
  testing::ProbeResult result = ProbeTcp(kNodeAddress, kNodePort, 50, ext_);
  ExpectSpread(result, {{std::string(kPodBackend) + " " + kClient, 1}}, 50);

  ASSERT_TRUE(loaded_.Remove().ok());
  EXPECT_EQ(berth_filters("ingress"), 0);
  EXPECT_EQ(berth_filters("egress"), 0);
  // Without the programs nothing answers on the NodePort.
  testing::ProbeResult after = ProbeTcp(kNodeAddress, kNodePort, 5, ext_);
  EXPECT_EQ(after.errors[ECONNREFUSED], 5);
}

// A healthCheckNodePort another process holds is bound once it is free,
// not only at the next Service change.
TEST(HealthCheckServersTest, APortHeldElsewhereIsBoundOnceFree) {
  UniqueFd held(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(held);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(held.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(held.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  uint16_t port = ntohs(address.sin_port);

  HealthCheckServers health("127.0.0.1");
  health.Update({HealthCheck{"default/web", port, 1}});
  health.RetryUnbound();  // still held: nothing listens (bound, not listening)
  EXPECT_FALSE(testing::HttpGet("127.0.0.1", port, "/").ok());
  held.reset();
  health.RetryUnbound();
  Result<std::string> answer = testing::HttpGet("127.0.0.1", port, "/");
  ASSERT_TRUE(answer.ok()) << answer.error().str();
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 200")) << *answer;
}

}  // namespace
}  // namespace berth::proxy
