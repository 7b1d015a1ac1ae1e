#include "cni/client/result.h"

#include <gtest/gtest.h>

namespace berth::cni {
namespace {

constexpr const char* kBridgeResult = R"({
  "cniVersion": "1.0.0",
  "interfaces": [
    {"name": "cni0", "mac": "aa:bb:cc:dd:ee:01"},
    {"name": "veth1234", "mac": "aa:bb:cc:dd:ee:02"},
    {"name": "eth0", "mac": "aa:bb:cc:dd:ee:03", "sandbox": "/proc/42/ns/net", "mtu": 1500}
  ],
  "ips": [
    {"address": "fd00::5/64", "gateway": "fd00::1", "interface": 2},
    {"address": "10.88.0.5/24", "gateway": "10.88.0.1", "interface": 2}
  ],
  "routes": [{"dst": "0.0.0.0/0", "gw": "10.88.0.1"}, {"dst": "::/0"}],
  "dns": {"nameservers": ["10.96.0.10"], "search": ["svc.cluster.local"]},
  "vendorExtension": {"kept": true}
})";

TEST(Result, TypedViews) {
  auto r = NetworkResult::Parse(kBridgeResult, "bridge ADD result");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->cni_version(), "1.0.0");
  ASSERT_EQ(r->interfaces().size(), 3u);
  EXPECT_EQ(r->interfaces()[2].sandbox, "/proc/42/ns/net");
  EXPECT_EQ(r->interfaces()[2].mtu, 1500);
  ASSERT_EQ(r->ips().size(), 2u);
  EXPECT_EQ(r->ips()[0].family, 6);
  EXPECT_EQ(r->ips()[1].Ip(), "10.88.0.5");
  EXPECT_EQ(r->ips()[1].gateway, "10.88.0.1");
  EXPECT_EQ(r->ips()[1].interface, 2u);
  ASSERT_EQ(r->routes().size(), 2u);
  EXPECT_EQ(r->routes()[0].gw, "10.88.0.1");
  EXPECT_EQ(r->dns().nameservers, std::vector<std::string>{"10.96.0.10"});
  EXPECT_TRUE(r->json().at("vendorExtension").at("kept").as_bool());
}

TEST(Result, PodIpsIpv4First) {
  auto r = NetworkResult::Parse(kBridgeResult, "r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->PodIps(), (std::vector<std::string>{"10.88.0.5", "fd00::5"}));
  // No interface of that name: any sandbox interface.
  EXPECT_EQ(r->PodIps("net1"), (std::vector<std::string>{"10.88.0.5", "fd00::5"}));
  // IPAM-style result without interface indexes.
  auto ipam = NetworkResult::Parse(
      R"({"cniVersion":"1.0.0","ips":[{"address":"fd00::7/64"},{"address":"10.1.0.7/16"}]})", "r");
  ASSERT_TRUE(ipam.ok()) << ipam.error().str();
  EXPECT_EQ(ipam->PodIps(), (std::vector<std::string>{"10.1.0.7", "fd00::7"}));
  // Host-side addresses only: not the pod's.
  auto host = NetworkResult::Parse(
      R"({"cniVersion":"1.0.0","interfaces":[{"name":"cni0"}],
          "ips":[{"address":"10.1.0.1/16","interface":0}]})",
      "r");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(host->PodIps().empty());
}

TEST(Result, ConvertsBetweenVersionFamilies) {
  auto old = NetworkResult::Parse(R"({"cniVersion":"0.4.0","interfaces":[{"name":"eth0"}],
      "ips":[{"version":"4","address":"10.0.0.2/8","interface":0}],"extra":1})",
                                  "r");
  ASSERT_TRUE(old.ok()) << old.error().str();
  auto v1 = old->ConvertTo("1.0.0");
  ASSERT_TRUE(v1.ok()) << v1.error().str();
  EXPECT_EQ(v1->cni_version(), "1.0.0");
  EXPECT_FALSE(v1->json().at("ips").as_array()[0].as_object().contains("version"));
  EXPECT_EQ(v1->json().at("extra").as_int64(), 1);
  auto back = v1->ConvertTo("0.3.1");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->json().at("ips").as_array()[0].at("version").as_string(), "4");
  EXPECT_FALSE(v1->ConvertTo("0.2.0").ok());
}

TEST(Result, MissingVersionTakesDefault) {
  auto r = NetworkResult::Parse(R"({"ips":[{"address":"10.0.0.2/8"}]})", "r", "1.0.0");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->cni_version(), "1.0.0");
  EXPECT_EQ(r->json().at("cniVersion").as_string(), "1.0.0");
}

TEST(Result, ValidationErrorsNameTheField) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.300/8"}]})",
       "ips[0].address: invalid CIDR"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.3"}]})", "ips[0].address: invalid CIDR"},
      {R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.3/8","interface":1}]})",
       "ips[0].interface: index 1 but 0 interfaces"},
      {R"({"cniVersion":"1.0.0","routes":[{"gw":"1.2.3.4"}]})", "routes[0].dst: required"},
      {R"({"cniVersion":"0.4.0","ips":[{"version":"6","address":"10.0.0.3/8"}]})",
       "ips[0].version: \"6\" does not match"},
      {R"({"cniVersion":"0.2.0"})", "unsupported result version"},
  };
  for (const Case& c : cases) {
    auto r = NetworkResult::Parse(c.text, "plugin result");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().str().find(c.want), std::string::npos) << r.error().str();
    EXPECT_EQ(r.error().str().rfind("plugin result", 0), 0u) << r.error().str();
  }
}

}  // namespace
}  // namespace berth::cni
