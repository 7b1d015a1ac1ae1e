#include "cni/bridge/result.h"

#include <gtest/gtest.h>

#include "cni/bridge/cni_error.h"
#include "cni/bridge/version.h"
#include "common/json.h"

namespace berth::cni::bridge {
namespace {

namespace bj = boost::json;

CniResult Sample() {
  CniResult r;
  r.interfaces.push_back({"berth0", "02:00:00:00:00:01", ""});
  r.interfaces.push_back({"veth1234abcd", "02:00:00:00:00:02", ""});
  r.interfaces.push_back({"eth0", "02:00:00:00:00:03", "/run/netns/pod"});
  r.ips.push_back(ResultIp{*ParseIpv4Prefix("10.88.0.5/16", "t"), *ParseIpv4("10.88.0.1", "t"), 2});
  r.routes.push_back(Route{*ParseIpv4Prefix("0.0.0.0/0", "t"), *ParseIpv4("10.88.0.1", "t")});
  r.dns.nameservers = {"10.96.0.10"};
  r.dns.search = {"default.svc.cluster.local"};
  return r;
}

TEST(ResultTest, RendersSpec100Result) {
  bj::value v = bj::parse(RenderResult(Sample(), "1.0.0"));
  EXPECT_EQ(v.at("cniVersion").as_string(), "1.0.0");
  const bj::array& ifs = v.at("interfaces").as_array();
  ASSERT_EQ(ifs.size(), 3u);
  EXPECT_EQ(ifs[0].at("name").as_string(), "berth0");
  EXPECT_FALSE(ifs[0].as_object().contains("sandbox")) << "host interfaces have no sandbox";
  EXPECT_EQ(ifs[2].at("sandbox").as_string(), "/run/netns/pod");
  EXPECT_EQ(ifs[2].at("mac").as_string(), "02:00:00:00:00:03");
  const bj::object& ip = v.at("ips").as_array()[0].as_object();
  EXPECT_EQ(ip.at("address").as_string(), "10.88.0.5/16");
  EXPECT_EQ(ip.at("gateway").as_string(), "10.88.0.1");
  EXPECT_EQ(ip.at("interface").as_int64(), 2);
  EXPECT_FALSE(ip.contains("version")) << "1.0.0 dropped ips[].version";
  EXPECT_EQ(v.at("routes").as_array()[0].at("dst").as_string(), "0.0.0.0/0");
  EXPECT_EQ(v.at("routes").as_array()[0].at("gw").as_string(), "10.88.0.1");
  EXPECT_EQ(v.at("dns").at("nameservers").as_array()[0].as_string(), "10.96.0.10");
  EXPECT_FALSE(v.at("dns").as_object().contains("domain"));
}

TEST(ResultTest, RendersLegacyVersionField) {
  bj::value v = bj::parse(RenderResult(Sample(), "0.4.0"));
  EXPECT_EQ(v.at("ips").as_array()[0].at("version").as_string(), "4");
  v = bj::parse(RenderResult(Sample(), "0.3.1"));
  EXPECT_EQ(v.at("ips").as_array()[0].at("version").as_string(), "4");
}

TEST(ResultTest, RoundTrips) {
  CniResult in = Sample();
  auto out = ParseResult(bj::parse(RenderResult(in, "1.1.0")));
  ASSERT_TRUE(out.ok()) << out.error().str();
  ASSERT_EQ(out->interfaces.size(), 3u);
  EXPECT_EQ(out->interfaces[2].sandbox, "/run/netns/pod");
  ASSERT_EQ(out->ips.size(), 1u);
  EXPECT_EQ(out->ips[0].address, in.ips[0].address);
  EXPECT_EQ(out->ips[0].gateway, in.ips[0].gateway);
  EXPECT_EQ(out->ips[0].interface, 2);
  EXPECT_EQ(out->routes, in.routes);
  EXPECT_EQ(out->dns.nameservers, in.dns.nameservers);
  EXPECT_EQ(out->dns.search, in.dns.search);
}

TEST(ResultTest, ParseSkipsIpv6AndNamesBadFields) {
  auto r = ParseResult(bj::parse(R"({"cniVersion":"1.0.0",
      "interfaces":[{"name":"eth0","sandbox":"/x"}],
      "ips":[{"address":"fd00::5/64","interface":0},{"address":"10.1.0.5/16","interface":0}],
      "routes":[{"dst":"::/0"},{"dst":"0.0.0.0/0"}]})"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_EQ(r->ips.size(), 1u);
  EXPECT_EQ(r->ips[0].address.str(), "10.1.0.5/16");
  EXPECT_FALSE(r->ips[0].gateway.has_value());
  ASSERT_EQ(r->routes.size(), 1u);
  EXPECT_FALSE(r->routes[0].gw.has_value());

  auto bad = ParseResult(bj::parse(R"({"ips":[{"address":"10.1.0.5"}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().str().find("prevResult.ips[0].address"), std::string::npos);
}

TEST(ResultTest, VersionResult) {
  bj::value v = bj::parse(RenderVersionResult("1.0.0"));
  EXPECT_EQ(v.at("cniVersion").as_string(), "1.0.0");
  const bj::array& versions = v.at("supportedVersions").as_array();
  ASSERT_EQ(versions.size(), std::size(kSupportedVersions));
  EXPECT_EQ(versions.back().as_string(), "1.1.0");
}

TEST(VersionTest, Compare) {
  EXPECT_TRUE(IsSupportedVersion("1.0.0"));
  EXPECT_TRUE(IsSupportedVersion("0.4.0"));
  EXPECT_FALSE(IsSupportedVersion("0.2.0"));
  EXPECT_FALSE(IsSupportedVersion("2.0.0"));
  EXPECT_TRUE(IsVersionAtLeast("1.1.0", "1.0.0"));
  EXPECT_TRUE(IsVersionAtLeast("0.10.0", "0.4.0"));
  EXPECT_FALSE(IsVersionAtLeast("0.3.1", "0.4.0"));
  EXPECT_FALSE(IsVersionAtLeast("1.0", "0.4.0"));
  EXPECT_FALSE(IsVersionAtLeast("x.y.z", "0.0.0"));
}

TEST(CniErrorTest, RendersAndMapsCategories) {
  bj::value v = bj::parse(RenderCniError(
      MakeCniError(CniCode::kInvalidNetworkConfig, "", "ipam.subnet: bad"), "1.0.0"));
  EXPECT_EQ(v.at("cniVersion").as_string(), "1.0.0");
  EXPECT_EQ(v.at("code").as_int64(), 7);
  EXPECT_EQ(v.at("msg").as_string(), "invalid network configuration");
  EXPECT_EQ(v.at("details").as_string(), "ipam.subnet: bad");

  EXPECT_EQ(ToCniError(Error(Errc::kInvalidArgument, "x")).code, CniCode::kInvalidNetworkConfig);
  EXPECT_EQ(ToCniError(Error(Errc::kResourceExhausted, "full")).code, CniCode::kNoFreeAddress);
  EXPECT_EQ(ToCniError(Error::Sys("socket", "", ENOMEM)).code, CniCode::kInternal)
      << "a syscall's ENOMEM is not IPAM exhaustion";
  EXPECT_EQ(ToCniError(Error(Errc::kAlreadyExists, "eth0")).code, CniCode::kAlreadyExists);
  EXPECT_EQ(ToCniError(Error(Errc::kFailedPrecondition, "x"), CniCode::kCheckFailed).code,
            CniCode::kCheckFailed);
}

}  // namespace
}  // namespace berth::cni::bridge
