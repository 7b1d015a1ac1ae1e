// Pod -> PodSandboxConfig (upstream generatePodSandboxConfig) and the pod's
// DNS per dnsPolicy (upstream pkg/kubelet/network/dns).

#include "agent/pods/sandbox_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "agent/pods/tests/pod_json.h"
#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using testing::PodWithSpec;

std::vector<std::string> Vec(const google::protobuf::RepeatedPtrField<std::string>& r) {
  return {r.begin(), r.end()};
}
std::multiset<std::string> Set(const google::protobuf::RepeatedPtrField<std::string>& r) {
  return {r.begin(), r.end()};
}

class PodDnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.resolv_conf = dir_ / "resolv.conf";
    WriteResolvConf(
        "# host resolver\n"
        "nameserver 10.0.0.2\n"
        "nameserver 10.0.0.3\n"
        "search corp.example.com lab.example.com\n"
        "options timeout:2 attempts:3\n");
  }
  void WriteResolvConf(const std::string& text) const {
    ASSERT_TRUE(WriteFile(options_.resolv_conf, text).ok());
  }
  v1::DNSConfig Dns(const bj::object& pod) {
    Result<v1::DNSConfig> dns = PodDns(pod, options_);
    EXPECT_TRUE(dns.ok()) << dns.error().str();
    return dns.ok() ? *dns : v1::DNSConfig();
  }

  berth::testing::TempDir dir_;
  PodOptions options_;
};

TEST_F(PodDnsTest, ClusterFirstUsesClusterDnsAndSearches) {
  options_.cluster_dns = {"10.96.0.10"};
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "ClusterFirst"})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"10.96.0.10"}));
  EXPECT_EQ(Vec(dns.searches()),
            (std::vector<std::string>{"shop.svc.cluster.local", "svc.cluster.local",
                                      "cluster.local", "corp.example.com", "lab.example.com"}));
  EXPECT_EQ(Vec(dns.options()), (std::vector<std::string>{"ndots:5"}));
  // dnsPolicy defaults to ClusterFirst.
  EXPECT_EQ(Dns(PodWithSpec("{}")).SerializeAsString(), dns.SerializeAsString());
}

TEST_F(PodDnsTest, ClusterFirstWithoutClusterDnsFallsBackToHost) {
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "ClusterFirst"})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"10.0.0.2", "10.0.0.3"}));
  EXPECT_EQ(Vec(dns.searches()), (std::vector<std::string>{"corp.example.com", "lab.example.com"}));
  EXPECT_EQ(Vec(dns.options()), (std::vector<std::string>{"timeout:2", "attempts:3"}));
}

TEST_F(PodDnsTest, HostNetworkClusterFirstUsesHostDns) {
  options_.cluster_dns = {"10.96.0.10"};
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "ClusterFirst", "hostNetwork": true})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"10.0.0.2", "10.0.0.3"}));
  EXPECT_EQ(Vec(dns.searches()), (std::vector<std::string>{"corp.example.com", "lab.example.com"}));
}

TEST_F(PodDnsTest, ClusterFirstWithHostNetUsesClusterDns) {
  options_.cluster_dns = {"10.96.0.10", "fd00::10"};
  for (const char* spec : {R"({"dnsPolicy": "ClusterFirstWithHostNet", "hostNetwork": true})",
                           R"({"dnsPolicy": "ClusterFirstWithHostNet"})"}) {
    v1::DNSConfig dns = Dns(PodWithSpec(spec));
    EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"10.96.0.10", "fd00::10"})) << spec;
    EXPECT_EQ(dns.searches(0), "shop.svc.cluster.local") << spec;
    EXPECT_EQ(Vec(dns.options()), (std::vector<std::string>{"ndots:5"})) << spec;
  }
}

TEST_F(PodDnsTest, DefaultUsesHostDnsEvenWithClusterDns) {
  options_.cluster_dns = {"10.96.0.10"};
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "Default"})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"10.0.0.2", "10.0.0.3"}));
  EXPECT_EQ(Vec(dns.options()), (std::vector<std::string>{"timeout:2", "attempts:3"}));
}

TEST_F(PodDnsTest, NoneTakesOnlyDnsConfig) {
  options_.cluster_dns = {"10.96.0.10"};
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "None", "dnsConfig": {
      "nameservers": ["1.1.1.1", "1.1.1.1", "8.8.8.8"],
      "searches": ["a.example", "b.example", "a.example"],
      "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"1.1.1.1", "8.8.8.8"}));
  EXPECT_EQ(Vec(dns.searches()), (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(Set(dns.options()), (std::multiset<std::string>{"ndots:2", "edns0"}));
  // Without dnsConfig: nothing at all.
  v1::DNSConfig empty = Dns(PodWithSpec(R"({"dnsPolicy": "None"})"));
  EXPECT_EQ(empty.servers_size() + empty.searches_size() + empty.options_size(), 0);
}

TEST_F(PodDnsTest, DnsConfigMergesIntoClusterFirst) {
  options_.cluster_dns = {"10.96.0.10"};
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "ClusterFirst", "dnsConfig": {
      "nameservers": ["10.96.0.10", "1.1.1.1"],
      "searches": ["svc.cluster.local", "extra.example"],
      "options": [{"name": "ndots", "value": "1"}, {"name": "single-request-reopen"}]}})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"10.96.0.10", "1.1.1.1"}));
  EXPECT_EQ(Vec(dns.searches()), (std::vector<std::string>{
                                     "shop.svc.cluster.local", "svc.cluster.local", "cluster.local",
                                     "corp.example.com", "lab.example.com", "extra.example"}));
  // An option named again replaces the policy's (upstream mergeDNSOptions;
  // its order is a map's, so compare as a set).
  EXPECT_EQ(Set(dns.options()), (std::multiset<std::string>{"ndots:1", "single-request-reopen"}));
}

TEST_F(PodDnsTest, DnsConfigOptionWithoutValueReplacesValuedOne) {
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "Default", "dnsConfig": {
      "options": [{"name": "timeout"}]}})"));
  EXPECT_EQ(Set(dns.options()), (std::multiset<std::string>{"timeout", "attempts:3"}));
}

TEST_F(PodDnsTest, AtMostThreeNameservers) {
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "Default", "dnsConfig": {
      "nameservers": ["1.1.1.1", "8.8.8.8", "9.9.9.9"]}})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"10.0.0.2", "10.0.0.3", "1.1.1.1"}));
}

TEST_F(PodDnsTest, AtMost32Searches) {
  options_.cluster_dns = {"10.96.0.10"};
  std::string searches;
  for (int i = 0; i < 40; ++i)
    searches += std::string(i == 0 ? "" : ",") + "\"s" + std::to_string(i) + ".example\"";
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsConfig": {"searches": [)" + searches + "]}}"));
  ASSERT_EQ(dns.searches_size(), 32);
  EXPECT_EQ(dns.searches(0), "shop.svc.cluster.local");
  EXPECT_EQ(dns.searches(5), "s0.example");
  EXPECT_EQ(dns.searches(31), "s26.example");
}

TEST_F(PodDnsTest, SearchLineLimitedTo2048Characters) {
  // Upstream formDNSSearchFitsLimits: searches longer than 253 characters
  // are dropped, and the joined line is cut from the end to 2048.
  std::string too_long(254, 'x');
  std::string items = "\"" + too_long + "\"";
  for (int i = 0; i < 20; ++i)
    items += ",\"" + std::string(200, static_cast<char>('a' + i)) + "\"";
  v1::DNSConfig dns =
      Dns(PodWithSpec(R"({"dnsPolicy": "None", "dnsConfig": {"searches": [)" + items + "]}}"));
  std::string line;
  for (const std::string& s : dns.searches()) {
    EXPECT_NE(s, too_long);
    line += (line.empty() ? "" : " ") + s;
  }
  EXPECT_LE(line.size(), 2048u);
  EXPECT_EQ(dns.searches_size(), 10);  // 10 * 201 - 1 = 2009 characters
}

TEST_F(PodDnsTest, ResolvConfFieldsSplitOnAnyWhitespace) {
  WriteResolvConf("nameserver\t192.168.1.1\n  nameserver   192.168.1.2  \nsearch\tone.example\n");
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "Default"})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"192.168.1.1", "192.168.1.2"}));
  EXPECT_EQ(Vec(dns.searches()), (std::vector<std::string>{"one.example"}));
}

TEST_F(PodDnsTest, ResolvConfSearchesLoseTrailingDotAndLastSearchLineWins) {
  WriteResolvConf(
      "search old.example\n"
      "nameserver 10.0.0.2\n"
      "search corp.example.com. corp.example.com lab.example.com\n");
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "Default"})"));
  EXPECT_EQ(Vec(dns.searches()),
            (std::vector<std::string>{"corp.example.com", "corp.example.com", "lab.example.com"}));
  options_.cluster_dns = {"10.96.0.10"};
  dns = Dns(PodWithSpec(R"({"dnsPolicy": "ClusterFirst"})"));
  EXPECT_EQ(Vec(dns.searches()),
            (std::vector<std::string>{"shop.svc.cluster.local", "svc.cluster.local",
                                      "cluster.local", "corp.example.com", "lab.example.com"}));
}

TEST_F(PodDnsTest, UnreadableResolvConfIsAnError) {
  // Upstream getHostDNSConfig fails the sandbox rather than giving the pod
  // no DNS at all.
  options_.resolv_conf = dir_ / "missing.conf";
  EXPECT_FALSE(PodDns(PodWithSpec(R"({"dnsPolicy": "Default"})"), options_).ok());
}

TEST_F(PodDnsTest, EmptyResolvConfSettingMeansLocalResolver) {
  // resolvConf "" (upstream): host DNS is 127.0.0.1 with search ".".
  options_.resolv_conf = "";
  v1::DNSConfig dns = Dns(PodWithSpec(R"({"dnsPolicy": "Default"})"));
  EXPECT_EQ(Vec(dns.servers()), (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(Vec(dns.searches()), (std::vector<std::string>{"."}));
}

TEST_F(PodDnsTest, UnknownPolicyIsInvalid) {
  Result<v1::DNSConfig> dns = PodDns(PodWithSpec(R"({"dnsPolicy": "Sometimes"})"), options_);
  ASSERT_FALSE(dns.ok());
  EXPECT_EQ(dns.error().code(), Errc::kInvalidArgument);
}

TEST(PodCgroupParentTest, PerQosClass) {
  PodOptions options;
  EXPECT_EQ(PodCgroupParent(PodWithSpec(R"({"containers": [{"name": "a"}]})"), options),
            "/kubepods/besteffort/poduid-1");
  EXPECT_EQ(PodCgroupParent(PodWithSpec(R"({"containers": [{"name": "a", "resources":
                {"requests": {"cpu": "100m"}}}]})"),
                            options),
            "/kubepods/burstable/poduid-1");
  EXPECT_EQ(PodCgroupParent(PodWithSpec(R"({"containers": [{"name": "a", "resources":
                {"limits": {"cpu": "1", "memory": "1Gi"}}}]})"),
                            options),
            "/kubepods/poduid-1");
  options.cgroup_root = "/berth/";
  EXPECT_EQ(PodCgroupParent(PodWithSpec(R"({"containers": [{"name": "a"}]})"), options),
            "/berth/kubepods/besteffort/poduid-1");
}

class SandboxConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.resolv_conf = dir_ / "resolv.conf";
    ASSERT_TRUE(WriteFile(options_.resolv_conf, "nameserver 10.0.0.2\n").ok());
    options_.cluster_dns = {"10.96.0.10"};
    options_.pod_logs_dir = "/var/log/pods";
  }
  v1::PodSandboxConfig Build(const bj::object& pod, uint32_t attempt = 0) {
    Result<v1::PodSandboxConfig> c = BuildSandboxConfig(pod, options_, attempt);
    EXPECT_TRUE(c.ok()) << c.error().str();
    return c.ok() ? *c : v1::PodSandboxConfig();
  }

  berth::testing::TempDir dir_;
  PodOptions options_;
};

TEST_F(SandboxConfigTest, MetadataLogDirectoryAndDns) {
  v1::PodSandboxConfig c = Build(PodWithSpec(R"({"containers": [{"name": "a"}]})"), 2);
  EXPECT_EQ(c.metadata().name(), "web");
  EXPECT_EQ(c.metadata().namespace_(), "shop");
  EXPECT_EQ(c.metadata().uid(), "uid-1");
  EXPECT_EQ(c.metadata().attempt(), 2u);
  EXPECT_EQ(c.log_directory(), "/var/log/pods/shop_web_uid-1");
  EXPECT_EQ(c.hostname(), "web");
  EXPECT_EQ(Vec(c.dns_config().servers()), (std::vector<std::string>{"10.96.0.10"}));
  EXPECT_EQ(c.linux().cgroup_parent(), "/kubepods/besteffort/poduid-1");
}

TEST_F(SandboxConfigTest, HostnameRules) {
  EXPECT_EQ(Build(PodWithSpec(R"({"hostname": "db-0"})")).hostname(), "db-0");
  // Longer than 63: cut, and no trailing '-' or '.' left.
  bj::object pod = PodWithSpec("{}");
  std::string name = std::string(62, 'a') + "-bcd";
  pod["metadata"].as_object()["name"] = name;
  EXPECT_EQ(Build(pod).hostname(), std::string(62, 'a'));
  // Host network: the node's own name.
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(Build(PodWithSpec(R"({"hostNetwork": true, "hostname": "x"})")).hostname(),
            std::string(host));
}

TEST_F(SandboxConfigTest, SetHostnameAsFqdn) {
  // Upstream GetNodenameForKernel: hostname.subdomain.<ns>.svc.<domain>.
  v1::PodSandboxConfig c =
      Build(PodWithSpec(R"({"hostname": "db-0", "subdomain": "db", "setHostnameAsFQDN": true})"));
  EXPECT_EQ(c.hostname(), "db-0.db.shop.svc.cluster.local");
  // Without setHostnameAsFQDN the short name stays.
  EXPECT_EQ(Build(PodWithSpec(R"({"hostname": "db-0", "subdomain": "db"})")).hostname(), "db-0");
}

TEST_F(SandboxConfigTest, HostPortMappings) {
  v1::PodSandboxConfig c = Build(PodWithSpec(R"({"containers": [
      {"name": "a", "ports": [
          {"containerPort": 80, "hostPort": 8080},
          {"containerPort": 53, "hostPort": 5353, "protocol": "UDP", "hostIP": "127.0.0.1"},
          {"containerPort": 9000}, {"containerPort": 9001, "hostPort": 0}]},
      {"name": "b", "ports": [{"containerPort": 7, "hostPort": 7007, "protocol": "SCTP"}]}]})"));
  std::vector<std::tuple<int, int, int, std::string>> got;
  for (const v1::PortMapping& m : c.port_mappings())
    got.emplace_back(m.protocol(), m.container_port(), m.host_port(), m.host_ip());
  // Ports without a hostPort are not mapped (upstream passes them with
  // host_port 0, which runtimes skip).
  EXPECT_EQ(
      got,
      (std::vector<std::tuple<int, int, int, std::string>>{
          {v1::TCP, 80, 8080, ""}, {v1::UDP, 53, 5353, "127.0.0.1"}, {v1::SCTP, 7, 7007, ""}}));
}

TEST_F(SandboxConfigTest, LabelsAndAnnotations) {
  bj::object pod = PodWithSpec("{}");
  pod["metadata"].as_object()["labels"] =
      bj::object{{"app", "web"}, {"io.kubernetes.pod.name", "spoofed"}};
  pod["metadata"].as_object()["annotations"] = bj::object{{"note", "hello"}};
  v1::PodSandboxConfig c = Build(pod);
  std::map<std::string, std::string> labels(c.labels().begin(), c.labels().end());
  EXPECT_EQ(labels, (std::map<std::string, std::string>{{"app", "web"},
                                                        {kPodNameLabel, "web"},
                                                        {kPodNamespaceLabel, "shop"},
                                                        {kPodUidLabel, "uid-1"}}));
  std::map<std::string, std::string> annotations(c.annotations().begin(), c.annotations().end());
  EXPECT_EQ(annotations, (std::map<std::string, std::string>{{"note", "hello"}}));
}

TEST_F(SandboxConfigTest, NamespaceOptions) {
  auto ns = [&](const char* spec) {
    return Build(PodWithSpec(spec)).linux().security_context().namespace_options();
  };
  v1::NamespaceOption d = ns("{}");
  EXPECT_EQ(d.network(), v1::POD);
  EXPECT_EQ(d.pid(), v1::CONTAINER);
  EXPECT_EQ(d.ipc(), v1::POD);
  v1::NamespaceOption host = ns(R"({"hostNetwork": true, "hostPID": true, "hostIPC": true})");
  EXPECT_EQ(host.network(), v1::NODE);
  EXPECT_EQ(host.pid(), v1::NODE);
  EXPECT_EQ(host.ipc(), v1::NODE);
  EXPECT_EQ(ns(R"({"shareProcessNamespace": true})").pid(), v1::POD);
  // hostPID wins over sharing.
  EXPECT_EQ(ns(R"({"shareProcessNamespace": true, "hostPID": true})").pid(), v1::NODE);
}

TEST_F(SandboxConfigTest, PodSecurityContextAndSysctls) {
  v1::PodSandboxConfig c = Build(PodWithSpec(R"({"securityContext": {
      "runAsUser": 1000, "runAsGroup": 3000, "supplementalGroups": [4000, 4001],
      "fsGroup": 2000,
      "sysctls": [{"name": "net.core.somaxconn", "value": "1024"},
                  {"name": "kernel.shm_rmid_forced", "value": "1"}]}})"));
  const v1::LinuxSandboxSecurityContext& sc = c.linux().security_context();
  ASSERT_TRUE(sc.has_run_as_user());
  EXPECT_EQ(sc.run_as_user().value(), 1000);
  ASSERT_TRUE(sc.has_run_as_group());
  EXPECT_EQ(sc.run_as_group().value(), 3000);
  // Upstream puts fsGroup first; the kernel keeps groups sorted anyway.
  std::multiset<int64_t> groups(sc.supplemental_groups().begin(), sc.supplemental_groups().end());
  EXPECT_EQ(groups, (std::multiset<int64_t>{2000, 4000, 4001}));
  std::map<std::string, std::string> sysctls(c.linux().sysctls().begin(),
                                             c.linux().sysctls().end());
  EXPECT_EQ(sysctls, (std::map<std::string, std::string>{{"net.core.somaxconn", "1024"},
                                                         {"kernel.shm_rmid_forced", "1"}}));
  EXPECT_FALSE(sc.privileged());
  v1::PodSandboxConfig plain = Build(PodWithSpec("{}"));
  EXPECT_FALSE(plain.linux().security_context().has_run_as_user());
  EXPECT_EQ(plain.linux().security_context().supplemental_groups_size(), 0);
}

TEST_F(SandboxConfigTest, PrivilegedWhenAnyContainerIs) {
  EXPECT_TRUE(Build(PodWithSpec(R"({"containers": [{"name": "a"},
      {"name": "b", "securityContext": {"privileged": true}}]})"))
                  .linux()
                  .security_context()
                  .privileged());
  EXPECT_TRUE(Build(PodWithSpec(R"({"containers": [{"name": "a"}], "initContainers": [
      {"name": "i", "securityContext": {"privileged": true}}]})"))
                  .linux()
                  .security_context()
                  .privileged());
  EXPECT_FALSE(Build(PodWithSpec(R"({"containers": [
      {"name": "a", "securityContext": {"privileged": false}}]})"))
                   .linux()
                   .security_context()
                   .privileged());
}

TEST_F(SandboxConfigTest, SandboxSeccompIsRuntimeDefault) {
  // Upstream generatePodSandboxLinuxConfig always asks for RuntimeDefault
  // for the sandbox (kubernetes#84623), whatever the pod's profile.
  v1::PodSandboxConfig c = Build(PodWithSpec("{}"));
  ASSERT_TRUE(c.linux().security_context().has_seccomp());
  EXPECT_EQ(c.linux().security_context().seccomp().profile_type(),
            v1::SecurityProfile::RuntimeDefault);
}

}  // namespace
}  // namespace berth::agent
