// Service link variables: upstream's names and values, and which Services
// a pod sees.

#include "agent/container/service_env.h"

#include <gtest/gtest.h>

namespace berth::agent {
namespace {

namespace bj = boost::json;

bj::object Service(const std::string& ns, const std::string& name, const std::string& ip,
                   bj::array ports) {
  return bj::object{{"metadata", {{"namespace", ns}, {"name", name}}},
                    {"spec", {{"clusterIP", ip}, {"ports", std::move(ports)}}}};
}

TEST(ServiceLinkVars, UpstreamNamesAndValues) {
  bj::object svc = Service("ns", "my-svc", "10.0.0.5",
                           {bj::object{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}},
                            bj::object{{"name", "dns-udp"}, {"port", 53}, {"protocol", "UDP"}}});
  std::vector<EnvVar> vars = ServiceLinkVars({&svc});
  std::vector<EnvVar> want = {
      {"MY_SVC_SERVICE_HOST", "10.0.0.5"},     {"MY_SVC_SERVICE_PORT", "80"},
      {"MY_SVC_SERVICE_PORT_HTTP", "80"},      {"MY_SVC_SERVICE_PORT_DNS_UDP", "53"},
      {"MY_SVC_PORT", "tcp://10.0.0.5:80"},    {"MY_SVC_PORT_80_TCP", "tcp://10.0.0.5:80"},
      {"MY_SVC_PORT_80_TCP_PROTO", "tcp"},     {"MY_SVC_PORT_80_TCP_PORT", "80"},
      {"MY_SVC_PORT_80_TCP_ADDR", "10.0.0.5"}, {"MY_SVC_PORT_53_UDP", "udp://10.0.0.5:53"},
      {"MY_SVC_PORT_53_UDP_PROTO", "udp"},     {"MY_SVC_PORT_53_UDP_PORT", "53"},
      {"MY_SVC_PORT_53_UDP_ADDR", "10.0.0.5"},
  };
  EXPECT_EQ(vars, want);
}

TEST(ServiceLinkVars, UnnamedPortDefaultsToTcpAndIpv6IsBracketed) {
  bj::object svc = Service("ns", "v6", "fd00::1", {bj::object{{"port", 443}}});
  std::vector<EnvVar> vars = ServiceLinkVars({&svc});
  ASSERT_EQ(vars.size(), 7u);
  EXPECT_EQ(vars[1], (EnvVar{"V6_SERVICE_PORT", "443"}));
  EXPECT_EQ(vars[2], (EnvVar{"V6_PORT", "tcp://[fd00::1]:443"}));
  EXPECT_EQ(vars[6], (EnvVar{"V6_PORT_443_TCP_ADDR", "fd00::1"}));
}

TEST(ServicesForPod, MasterServiceAlwaysOwnNamespaceOnlyWithLinks) {
  std::vector<bj::object> services = {
      Service("default", "kubernetes", "10.0.0.1", {bj::object{{"name", "https"}, {"port", 443}}}),
      Service("default", "other", "10.0.0.2", {bj::object{{"port", 80}}}),
      Service("app", "web", "10.0.0.3", {bj::object{{"port", 80}}}),
      Service("app", "headless", "None", {bj::object{{"port", 80}}}),
      Service("app", "external", "", {}),
  };
  auto names = [](const std::vector<const bj::object*>& list) {
    std::vector<std::string> out;
    for (const bj::object* s : list) {
      out.emplace_back(s->at("metadata").at("namespace").as_string().c_str());
      out.back() += "/";
      out.back() += s->at("metadata").at("name").as_string().c_str();
    }
    return out;
  };
  EXPECT_EQ(names(ServicesForPod(services, "app", true)),
            (std::vector<std::string>{"default/kubernetes", "app/web"}));
  EXPECT_EQ(names(ServicesForPod(services, "app", false)),
            (std::vector<std::string>{"default/kubernetes"}));
  EXPECT_EQ(names(ServicesForPod(services, "default", true)),
            (std::vector<std::string>{"default/kubernetes", "default/other"}));
}

TEST(ServicesForPod, SameNamedServiceOfThePodsNamespaceWins) {
  std::vector<bj::object> services = {
      Service("app", "kubernetes", "10.9.9.9", {bj::object{{"port", 1}}}),
      Service("default", "kubernetes", "10.0.0.1", {bj::object{{"port", 443}}}),
  };
  auto list = ServicesForPod(services, "app", true);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]->at("spec").at("clusterIP"), "10.9.9.9");
}

}  // namespace
}  // namespace berth::agent
