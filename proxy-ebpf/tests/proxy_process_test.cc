// `berth proxy` as users run it: the built binary against `berth server`
// (also the built binary), programming Services and EndpointSlices made
// through the API; this test process (in a cgroup of its own that the
// proxy attaches to) is the node's client. Acceptance 1, 3 (in part), 4
// and 5 of issue 8, plus `berth proxy status`, metrics and --cleanup.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/client/api_client.h"
#include "controlplane/server/tests/server_process.h"
#include "proxy-ebpf/tests/lb_fixture.h"

namespace berth::proxy {
namespace {

using controlplane::client::ApiClient;
using controlplane::client::ClientConfig;
using testing::ProbeTcp;

const std::vector<std::string> kBackends = {"10.250.0.1", "10.250.0.2", "10.250.0.3"};

std::string Slice(const std::string& service, const std::vector<std::string>& ready,
                  const std::vector<std::string>& terminating = {},
                  const std::string& node = "node-a") {
  boost::json::array endpoints;
  for (const std::string& a : ready)
    endpoints.push_back(
        {{"addresses", {a}}, {"conditions", {{"ready", true}}}, {"nodeName", node}});
  for (const std::string& a : terminating)
    endpoints.push_back(
        {{"addresses", {a}},
         {"conditions", {{"ready", false}, {"serving", true}, {"terminating", true}}},
         {"nodeName", "node-a"}});
  boost::json::object slice{
      {"apiVersion", "discovery.k8s.io/v1"},
      {"kind", "EndpointSlice"},
      {"metadata",
       {{"name", service + "-1"}, {"labels", {{"kubernetes.io/service-name", service}}}}},
      {"addressType", "IPv4"},
      {"endpoints", endpoints},
      {"ports", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}}};
  return boost::json::serialize(slice);
}

std::string Service(const std::string& name) {
  return boost::json::serialize(boost::json::object{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", name}}},
      {"spec", {{"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", 8080}}}}}}});
}

class ProxyProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root (BPF, cgroups, netns)");
    for (const std::string& a : kBackends)
      ASSERT_TRUE(testing::Ip("addr add " + a + "/32 dev lo").ok());
    auto bpffs = testing::TestBpffs::Mount();
    ASSERT_TRUE(bpffs.ok()) << bpffs.error().str();
    bpffs_ = std::move(*bpffs);
    auto cgroup = testing::TestCgroup::Create();
    ASSERT_TRUE(cgroup.ok()) << cgroup.error().str();
    cgroup_ = std::move(*cgroup);
    auto servers = testing::EchoServers::Start(kBackends, 8080, false);
    ASSERT_TRUE(servers.ok()) << servers.error().str();
    servers_ = std::move(*servers);
    ASSERT_EQ(mkdir((dir_ / "server").c_str(), 0700), 0);
    auto server =
        controlplane::testing::ServerProcess::Start(dir_ / "server", berth::testing::UnusedPort());
    ASSERT_TRUE(server.ok()) << server.error().str();
    server_ = std::move(*server);
    ClientConfig config;
    config.port = server_->port();
    config.ca_pem = server_->ca_pem();
    config.certificate = server_->admin();
    api_ = std::make_unique<ApiClient>(config);
  }

  void TearDown() override {
    proxy_ = ChildGuard();
    if (bpffs_) {
      Result<CommandResult> cleanup =
          RunCommand({{berth::testing::BuiltBinary("cmd/berth"), "proxy", "--cleanup",
                       "--bpf-pin-dir", PinDir()}});
      EXPECT_TRUE(cleanup.ok() && cleanup->success());
    }
    server_.reset();
    servers_.reset();
    cgroup_.reset();
    bpffs_.reset();
    for (const std::string& a : kBackends)
      (void)testing::Ip("addr del " + a + "/32 dev lo");
  }

  std::string PinDir() const { return bpffs_->PinDir(); }

  // `cgroup` empty: the one this process sits in.
  void StartProxy(const std::vector<std::string>& extra = {}, const std::string& cgroup = "") {
    metrics_port_ = berth::testing::UnusedPort();
    std::vector<std::string> argv = {berth::testing::BuiltBinary("cmd/berth"),
                                     "proxy",
                                     "--kubeconfig",
                                     dir_ / "server/admin.kubeconfig",
                                     "--hostname-override",
                                     "node-a",
                                     "--bpf-pin-dir",
                                     PinDir(),
                                     "--proxy-cgroup-root",
                                     cgroup.empty() ? cgroup_->path() : cgroup,
                                     "--metrics-bind-address",
                                     "127.0.0.1:" + std::to_string(metrics_port_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = berth::testing::SpawnLogged(argv, dir_ / "proxy.log");
    ASSERT_TRUE(child.ok()) << child.error().str();
    proxy_ = std::move(*child);
  }

  std::string ProxyLog() const { return ReadFile(dir_ / "proxy.log").value_or(""); }

  // The Service's cluster IP.
  std::string CreateService(const std::string& name, const std::vector<std::string>& ready) {
    auto created = api_->Do("POST", "/api/v1/namespaces/default/services", Service(name));
    EXPECT_TRUE(created.ok() && created->status == 201) << (created.ok() ? created->body : "");
    if (!created.ok()) return "";
    std::string ip(created->Json().at("spec").at("clusterIP").as_string());
    auto slice = api_->Do("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
                          Slice(name, ready));
    EXPECT_TRUE(slice.ok() && slice->status == 201) << (slice.ok() ? slice->body : "");
    return ip;
  }

  void ReplaceSlice(const std::string& name, const std::vector<std::string>& ready,
                    const std::vector<std::string>& terminating = {}) {
    auto updated = api_->Do(
        "PUT", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/" + name + "-1",
        Slice(name, ready, terminating));
    ASSERT_TRUE(updated.ok() && updated->status == 200) << (updated.ok() ? updated->body : "");
  }

  // Waits until connections to vip:80 reach exactly `backends`.
  bool WaitForBackends(const std::string& vip, size_t backends) {
    for (int i = 0; i < 200; ++i) {
      testing::ProbeResult r = ProbeTcp(vip, 80, 30);
      if (r.errors.empty() && r.backends.size() == backends) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  berth::testing::TempDir dir_{"berth-proxy-test"};
  std::unique_ptr<testing::TestBpffs> bpffs_;
  std::unique_ptr<testing::TestCgroup> cgroup_;
  std::unique_ptr<testing::EchoServers> servers_;
  std::unique_ptr<controlplane::testing::ServerProcess> server_;
  std::unique_ptr<ApiClient> api_;
  ChildGuard proxy_;
  uint16_t metrics_port_ = 0;
};

// Acceptance 2 through the real binary: a NodePort Service with
// externalTrafficPolicy Local reached from an "external host" netns over
// the TC programs on vext0. The socket programs go to an empty cgroup, not
// this process's, so no connect() here is translated at the socket level.
TEST_F(ProxyProcessTest, NodePortFromAnExternalHostFollowsExternalTrafficPolicyLocal) {
  auto pods = testing::TestCgroup::Create(/*join=*/false, "np");
  ASSERT_TRUE(pods.ok()) << pods.error().str();
  auto ext = testing::CreateExternalHost(dir_.path());
  ASSERT_TRUE(ext.ok()) << ext.error().str();
  std::string ext_netns = *ext;
  struct Cleanup {
    std::string netns;
    ~Cleanup() { testing::RemoveExternalHost(netns); }
  } cleanup{ext_netns};
  servers_.reset();
  auto servers = testing::EchoServers::Start(kBackends, 8080, false, "", /*report_peer=*/true);
  ASSERT_TRUE(servers.ok()) << servers.error().str();
  servers_ = std::move(*servers);

  const uint16_t node_port = 30081;
  const uint16_t health_port = 32081;
  boost::json::object service{
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "np"}}},
      {"spec",
       {{"type", "NodePort"},
        {"externalTrafficPolicy", "Local"},
        {"healthCheckNodePort", health_port},
        {"ports",
         {{{"name", "http"}, {"port", 80}, {"targetPort", 8080}, {"nodePort", node_port}}}}}}};
  auto created =
      api_->Do("POST", "/api/v1/namespaces/default/services", boost::json::serialize(service));
  ASSERT_TRUE(created.ok() && created->status == 201) << (created.ok() ? created->body : "");
  auto slice = api_->Do("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
                        Slice("np", kBackends));
  ASSERT_TRUE(slice.ok() && slice->status == 201) << (slice.ok() ? slice->body : "");
  StartProxy(
      {"--nodeport-interfaces", "vext0", "--nodeport-addresses", testing::kExternalNodeAddress},
      (*pods)->path());

  testing::ProbeResult result;
  for (int i = 0; i < 100; ++i) {
    result = ProbeTcp(testing::kExternalNodeAddress, node_port, 300, ext_netns);
    if (result.errors.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(result.errors.empty()) << ProxyLog();
  EXPECT_EQ(result.peer_mismatches, 0);
  // Local policy: every backend sees the external client's own address.
  for (const std::string& backend : kBackends)
    EXPECT_NEAR(result.backends[backend + " " + testing::kExternalClient], 100, 40) << backend;
  Result<std::string> healthy =
      testing::HttpGet(testing::kExternalNodeAddress, health_port, "/", ext_netns);
  ASSERT_TRUE(healthy.ok()) << healthy.error().str();
  EXPECT_TRUE(healthy->starts_with("HTTP/1.1 200")) << *healthy;
  EXPECT_NE(healthy->find("\"localEndpoints\":3"), std::string::npos) << *healthy;

  // The endpoints move to another node: this node refuses and says 503.
  auto moved = api_->Do("PUT", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/np-1",
                        Slice("np", kBackends, {}, "node-b"));
  ASSERT_TRUE(moved.ok() && moved->status == 200) << (moved.ok() ? moved->body : "");
  testing::ProbeResult refused;
  for (int i = 0; i < 100; ++i) {
    refused = ProbeTcp(testing::kExternalNodeAddress, node_port, 5, ext_netns);
    if (refused.errors[ECONNREFUSED] == 5) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(refused.errors[ECONNREFUSED], 5);
  Result<std::string> unhealthy =
      testing::HttpGet(testing::kExternalNodeAddress, health_port, "/", ext_netns);
  ASSERT_TRUE(unhealthy.ok()) << unhealthy.error().str();
  EXPECT_TRUE(unhealthy->starts_with("HTTP/1.1 503")) << *unhealthy;
}

TEST_F(ProxyProcessTest, ServesClusterIpsFromTheApiAndSurvivesSigkill) {
  std::string vip = CreateService("web", kBackends);
  std::string empty_vip = CreateService("nothing", {});
  StartProxy();
  ASSERT_TRUE(WaitForBackends(vip, 3)) << ProxyLog();

  // Acceptance 1: all backends, each within 20% of its share; the client
  // sees the service address as its peer.
  testing::ProbeResult spread = ProbeTcp(vip, 80, 1000);
  EXPECT_TRUE(spread.errors.empty());
  EXPECT_EQ(spread.peer_mismatches, 0);
  for (const std::string& backend : kBackends)
    EXPECT_NEAR(spread.backends[backend], 333, 67) << backend;

  // Acceptance 5: no endpoints, refused at once.
  testing::ProbeResult refused = ProbeTcp(empty_vip, 80, 5);
  EXPECT_EQ(refused.errors[ECONNREFUSED], 5);

  // Acceptance 4: SIGKILL and restart while a client connects every 10 ms.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::thread client([&] {
    while (!stop) {
      testing::ProbeResult r = ProbeTcp(vip, 80, 1);
      if (r.errors.empty() && r.backends.size() == 1 && !r.backends.count(""))
        ++ok;
      else
        ++failed;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(proxy_.get(), SIGKILL);
  proxy_ = ChildGuard();                                        // reaped
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // no proxy at all
  StartProxy();
  // The restarted proxy adopts the maps and re-points the links; then a
  // change must still flow through it.
  // Bounded generously: on a loaded 2-core host the restart once took more
  // than 5 s to load its programs and list the API.
  bool synced = false;
  for (int i = 0; i < 600 && !synced; ++i) {
    synced = ProxyLog().find("full sync") != std::string::npos;
    if (!synced) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  client.join();
  ASSERT_TRUE(synced) << "the restarted proxy never synced: " << ProxyLog();
  EXPECT_GT(ok.load(), 50);
  EXPECT_EQ(failed.load(), 0) << ProxyLog();
  EXPECT_NE(ProxyLog().find("adopted"), std::string::npos) << ProxyLog();

  // Endpoint churn: a removed backend gets no new connection once the
  // slice update is in; a serving+terminating one is used only when no
  // ready one is left.
  ReplaceSlice("web", {"10.250.0.1"}, {"10.250.0.2"});
  ASSERT_TRUE(WaitForBackends(vip, 1)) << ProxyLog();
  testing::ProbeResult one = ProbeTcp(vip, 80, 100);
  EXPECT_EQ(one.backends["10.250.0.1"], 100);
  ReplaceSlice("web", {}, {"10.250.0.2"});
  ASSERT_TRUE(WaitForBackends(vip, 1));
  EXPECT_EQ(ProbeTcp(vip, 80, 20).backends["10.250.0.2"], 20);

  // Observability: status from the pinned maps, metrics over HTTP.
  Result<CommandResult> status = RunCommand(
      {{berth::testing::BuiltBinary("cmd/berth"), "proxy", "status", "--bpf-pin-dir", PinDir()}});
  ASSERT_TRUE(status.ok() && status->success()) << (status.ok() ? status->err : "");
  EXPECT_NE(status->out.find("default/web:http"), std::string::npos) << status->out;
  EXPECT_NE(status->out.find(vip + ":80/TCP"), std::string::npos) << status->out;
  EXPECT_NE(status->out.find("-> 10.250.0.2:8080 local terminating"), std::string::npos)
      << status->out;
  Result<CommandResult> metrics = RunCommand(
      {{"python3", "-c",
        "import urllib.request,sys;print(urllib.request.urlopen(sys.argv[1]).read().decode())",
        "http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics"}});
  ASSERT_TRUE(metrics.ok() && metrics->success()) << (metrics.ok() ? metrics->err : "");
  size_t line =
      metrics->out.find("berth_proxy_frontend_connections_total{service=\"default/web:http\"");
  ASSERT_NE(line, std::string::npos) << metrics->out;
  // The per-CPU counters add up to the connections made above (>1,000).
  std::string sample = metrics->out.substr(line, metrics->out.find('\n', line) - line);
  EXPECT_GT(std::stoll(sample.substr(sample.rfind(' ') + 1)), 1000) << sample;

  // A deleted Service stops being balanced.
  auto deleted = api_->Do("DELETE", "/api/v1/namespaces/default/services/web");
  ASSERT_TRUE(deleted.ok() && deleted->status == 200);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = ProbeTcp(vip, 80, 1).backends.empty();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone);
}

TEST_F(ProxyProcessTest, StartFailsNamingAMissingCgroup) {
  Result<CommandResult> run =
      RunCommand({{berth::testing::BuiltBinary("cmd/berth"), "proxy", "--kubeconfig",
                   dir_ / "server/admin.kubeconfig", "--hostname-override", "node-a",
                   "--bpf-pin-dir", PinDir(), "--proxy-cgroup-root",
                   "/sys/fs/cgroup/unified/berth-no-such-cgroup", "--metrics-bind-address", ""}});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 1);
  EXPECT_NE(run->err.find("berth-no-such-cgroup"), std::string::npos) << run->err;
}

}  // namespace
}  // namespace berth::proxy
