#include "cni/bridge/config.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::cni::bridge {
namespace {

constexpr const char* kMinimal = R"({
  "cniVersion": "1.0.0", "name": "podnet", "type": "berth-cni-bridge",
  "ipam": {"subnet": "10.88.0.0/24"}
})";

// The error text of parsing `text`, which must fail.
std::string ErrorOf(const std::string& text) {
  auto conf = ParseNetConfText(text);
  EXPECT_FALSE(conf.ok()) << text;
  return conf.ok() ? "" : conf.error().str();
}

std::string WithIpam(const std::string& ipam) {
  return R"({"cniVersion":"1.0.0","name":"n","type":"berth-cni-bridge","ipam":)" + ipam + "}";
}

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  auto conf = ParseNetConfText(kMinimal);
  ASSERT_TRUE(conf.ok()) << conf.error().str();
  EXPECT_EQ(conf->cni_version, "1.0.0");
  EXPECT_EQ(conf->name, "podnet");
  EXPECT_EQ(conf->bridge, "berth0");
  EXPECT_EQ(conf->mtu, 0);
  EXPECT_FALSE(conf->hairpin_mode);
  EXPECT_FALSE(conf->is_gateway);
  EXPECT_FALSE(conf->ip_masq);
  EXPECT_EQ(conf->ipam.subnet.str(), "10.88.0.0/24");
  EXPECT_EQ(conf->ipam.gateway.str(), "10.88.0.1");
  EXPECT_EQ(conf->ipam.range_start.str(), "10.88.0.1");
  EXPECT_EQ(conf->ipam.range_end.str(), "10.88.0.254");
  EXPECT_EQ(conf->ipam.data_dir, "/var/lib/berth/cni/ipam");
  EXPECT_TRUE(conf->port_mappings.empty());
  EXPECT_FALSE(conf->prev_result.has_value());
  EXPECT_TRUE(conf->PodRoutes().empty());
}

TEST(ConfigTest, FullConfig) {
  auto conf = ParseNetConfText(R"({
    "cniVersion": "1.1.0", "name": "k8s-pod-network", "type": "berth-cni-bridge",
    "bridge": "br-test", "mtu": 1400, "hairpinMode": true, "isDefaultGateway": true,
    "ipMasq": true,
    "ipam": {"subnet": "10.88.0.5/16", "rangeStart": "10.88.1.0", "rangeEnd": "10.88.1.255",
             "gateway": "10.88.0.254", "dataDir": "/tmp/ipam",
             "routes": [{"dst": "192.168.0.0/24", "gw": "10.88.0.254"}]},
    "dns": {"nameservers": ["10.96.0.10"], "domain": "cluster.local",
            "search": ["svc.cluster.local"], "options": ["ndots:5"]},
    "capabilities": {"portMappings": true},
    "runtimeConfig": {"portMappings": [
      {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
      {"hostPort": 5353, "containerPort": 53, "protocol": "UDP", "hostIP": "192.0.2.1"},
      {"hostPort": 9000, "containerPort": 90, "hostIP": "::1"}]},
    "prevResult": {"cniVersion": "1.1.0", "ips": []},
    "cni.dev/valid-attachments": [{"containerID": "abc", "ifname": "eth0"}]
  })");
  ASSERT_TRUE(conf.ok()) << conf.error().str();
  EXPECT_EQ(conf->bridge, "br-test");
  EXPECT_EQ(conf->mtu, 1400);
  EXPECT_TRUE(conf->hairpin_mode);
  EXPECT_TRUE(conf->is_default_gateway);
  EXPECT_TRUE(conf->is_gateway) << "isDefaultGateway implies isGateway";
  EXPECT_TRUE(conf->ip_masq);
  EXPECT_EQ(conf->ipam.subnet.str(), "10.88.0.0/16") << "normalised to the network";
  EXPECT_EQ(conf->ipam.gateway.str(), "10.88.0.254");
  EXPECT_EQ(conf->ipam.range_start.str(), "10.88.1.0");
  EXPECT_EQ(conf->ipam.range_end.str(), "10.88.1.255");
  EXPECT_EQ(conf->ipam.data_dir, "/tmp/ipam");
  EXPECT_EQ(conf->dns.nameservers, std::vector<std::string>{"10.96.0.10"});
  EXPECT_EQ(conf->dns.domain, "cluster.local");
  EXPECT_EQ(conf->dns.options, std::vector<std::string>{"ndots:5"});
  ASSERT_EQ(conf->port_mappings.size(), 2u) << "the IPv6 hostIP mapping is skipped";
  EXPECT_EQ(conf->port_mappings[0].host_port, 8080);
  EXPECT_EQ(conf->port_mappings[0].container_port, 80);
  EXPECT_EQ(conf->port_mappings[0].protocol, Protocol::kTcp);
  EXPECT_FALSE(conf->port_mappings[0].host_ip.has_value());
  EXPECT_EQ(conf->port_mappings[1].protocol, Protocol::kUdp);
  EXPECT_EQ(conf->port_mappings[1].host_ip->str(), "192.0.2.1");
  EXPECT_TRUE(conf->prev_result.has_value());
  ASSERT_EQ(conf->valid_attachments.size(), 1u);
  EXPECT_EQ(conf->valid_attachments[0].container_id, "abc");
  EXPECT_EQ(conf->valid_attachments[0].ifname, "eth0");
  auto routes = conf->PodRoutes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].dst.str(), "192.168.0.0/24");
  EXPECT_EQ(routes[1].dst.str(), "0.0.0.0/0");
  EXPECT_EQ(routes[1].gw->str(), "10.88.0.254");
}

TEST(ConfigTest, DefaultRouteInIpamRoutesGetsTheGateway) {
  auto conf = ParseNetConfText(
      R"({"cniVersion":"1.0.0","name":"n","isDefaultGateway":true,
          "ipam":{"subnet":"10.1.0.0/16","routes":[{"dst":"0.0.0.0/0"}]}})");
  ASSERT_TRUE(conf.ok()) << conf.error().str();
  auto routes = conf->PodRoutes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].gw->str(), "10.1.0.1");
}

TEST(ConfigTest, HostLocalRangesForm) {
  auto conf = ParseNetConfText(WithIpam(
      R"({"type":"host-local","ranges":[[{"subnet":"10.2.0.0/24","rangeStart":"10.2.0.10"}]]})"));
  ASSERT_TRUE(conf.ok()) << conf.error().str();
  EXPECT_EQ(conf->ipam.subnet.str(), "10.2.0.0/24");
  EXPECT_EQ(conf->ipam.range_start.str(), "10.2.0.10");
}

TEST(ConfigTest, OldCniAttachmentsKeyIsRead) {
  auto conf = ParseNetConfText(
      R"({"cniVersion":"1.1.0","name":"n","ipam":{"subnet":"10.1.0.0/16"},
          "cni.dev/attachments":[{"containerID":"x","ifname":"eth1"}]})");
  ASSERT_TRUE(conf.ok()) << conf.error().str();
  ASSERT_EQ(conf->valid_attachments.size(), 1u);
  EXPECT_EQ(conf->valid_attachments[0].ifname, "eth1");
}

TEST(ConfigTest, ErrorsNameTheField) {
  EXPECT_NE(ErrorOf("[1]").find("expected object"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"name":"n","ipam":{"subnet":"10.0.0.0/8"}})").find("cniVersion"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","ipam":{"subnet":"10.0.0.0/8"}})").find("name"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"-bad","ipam":{"subnet":"10.0.0.0/8"}})")
                .find("name"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"cniVersion":"1.0.0","name":"n"})").find("ipam"), std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam("{}")).find("ipam.subnet"), std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"subnet":"10.0.0.0"})")).find("ipam.subnet"), std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"subnet":"10.0.0.300/8"})")).find("ipam.subnet"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"subnet":"10.0.0.0/31"})")).find("too small"), std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"subnet":"10.0.0.0/24","rangeStart":"10.0.1.1"})"))
                .find("ipam.rangeStart"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"subnet":"10.0.0.0/24","rangeEnd":"10.0.0.255"})"))
                .find("ipam.rangeEnd"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"subnet":"10.0.0.0/24","rangeStart":"10.0.0.9",
                                 "rangeEnd":"10.0.0.5"})"))
                .find("ipam.rangeEnd"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(WithIpam(R"({"subnet":"10.0.0.0/24","gateway":"10.0.0.0"})")).find("ipam.gateway"),
      std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"subnet":"10.0.0.0/24","dataDir":"rel"})")).find("ipam.dataDir"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"type":"dhcp","subnet":"10.0.0.0/24"})")).find("ipam.type"),
            std::string::npos);
  EXPECT_NE(ErrorOf(WithIpam(R"({"subnet":"10.0.0.0/24","routes":[{"gw":"10.0.0.1"}]})"))
                .find("ipam.routes[0].dst"),
            std::string::npos);
}

TEST(ConfigTest, TopLevelErrorsNameTheField) {
  auto with = [](const std::string& kv) {
    return R"({"cniVersion":"1.0.0","name":"n","ipam":{"subnet":"10.0.0.0/24"},)" + kv + "}";
  };
  EXPECT_NE(ErrorOf(with(R"("bridge":"a-very-long-bridge-name")")).find("bridge"),
            std::string::npos);
  EXPECT_NE(ErrorOf(with(R"("bridge":"br/0")")).find("bridge"), std::string::npos);
  EXPECT_NE(ErrorOf(with(R"("mtu":10)")).find("mtu"), std::string::npos);
  EXPECT_NE(ErrorOf(with(R"("mtu":"1500")")).find("mtu"), std::string::npos);
  EXPECT_NE(ErrorOf(with(R"("hairpinMode":"yes")")).find("hairpinMode"), std::string::npos);
  EXPECT_NE(ErrorOf(with(R"("runtimeConfig":{"portMappings":[{"hostPort":0,"containerPort":1}]})"))
                .find("runtimeConfig.portMappings[0].hostPort"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(with(R"("runtimeConfig":{"portMappings":[{"hostPort":1,"containerPort":70000}]})"))
          .find("runtimeConfig.portMappings[0].containerPort"),
      std::string::npos);
  EXPECT_NE(ErrorOf(with(R"("runtimeConfig":{"portMappings":[{"hostPort":1,"containerPort":1,
                                                              "protocol":"sctp"}]})"))
                .find("runtimeConfig.portMappings[0].protocol"),
            std::string::npos);
  EXPECT_NE(ErrorOf(with(R"("runtimeConfig":{"portMappings":[{"hostPort":1,"containerPort":1,
                                                              "hostIP":"1.2.3"}]})"))
                .find("runtimeConfig.portMappings[0].hostIP"),
            std::string::npos);
  EXPECT_NE(ErrorOf(with(R"("prevResult":[])")).find("prevResult"), std::string::npos);
}

TEST(ConfigTest, InterfaceNames) {
  EXPECT_TRUE(ValidateIfName("eth0", "x").ok());
  EXPECT_TRUE(ValidateIfName("123456789012345", "x").ok());
  EXPECT_FALSE(ValidateIfName("", "x").ok());
  EXPECT_FALSE(ValidateIfName("1234567890123456", "x").ok());
  EXPECT_FALSE(ValidateIfName(".", "x").ok());
  EXPECT_FALSE(ValidateIfName("..", "x").ok());
  EXPECT_FALSE(ValidateIfName("a b", "x").ok());
  EXPECT_FALSE(ValidateIfName("a:b", "x").ok());
  EXPECT_FALSE(ValidateIfName("a/b", "x").ok());
  EXPECT_NE(ValidateIfName("a/b", "CNI_IFNAME").error().str().find("CNI_IFNAME"),
            std::string::npos);
}

TEST(ConfigTest, Identifiers) {
  EXPECT_TRUE(ValidateIdentifier("abc-1.2_3", "x").ok());
  EXPECT_TRUE(ValidateIdentifier("0abc", "x").ok());
  EXPECT_FALSE(ValidateIdentifier("", "x").ok());
  EXPECT_FALSE(ValidateIdentifier("_abc", "x").ok());
  EXPECT_FALSE(ValidateIdentifier("a/b", "x").ok());
}

TEST(IpTest, ParseAndFormat) {
  auto p = ParseIpv4Prefix("192.168.1.77/20", "x");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->str(), "192.168.1.77/20");
  EXPECT_EQ(p->network().str(), "192.168.0.0");
  EXPECT_EQ(p->broadcast().str(), "192.168.15.255");
  EXPECT_TRUE(p->Contains(*ParseIpv4("192.168.15.1", "x")));
  EXPECT_FALSE(p->Contains(*ParseIpv4("192.168.16.1", "x")));
  EXPECT_FALSE(ParseIpv4("1.2.3.4.5", "x").ok());
  EXPECT_FALSE(ParseIpv4("01.2.3.4x", "x").ok());
  EXPECT_FALSE(ParseIpv4Prefix("1.2.3.4/33", "x").ok());
  EXPECT_EQ(PrefixMask(0), 0u);
  EXPECT_EQ(PrefixMask(8), 0xff000000u);
  EXPECT_EQ(PrefixMask(32), 0xffffffffu);
}

}  // namespace
}  // namespace berth::cni::bridge
