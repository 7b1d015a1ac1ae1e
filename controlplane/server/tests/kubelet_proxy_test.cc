// pods/log and pods/exec through berth server to a kubelet stand-in (an
// HTTPS server of our own on 127.0.0.1 that a node's status points at):
// the apiserver's kubelet client certificate, the kubelet paths, a
// followed log streamed through, an upgraded stream copied both ways.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <mutex>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/server/apiserver.h"
#include "controlplane/server/tests/test_server.h"
#include "controlplane/server/tests/tls_client.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;
using http::bhttp::verb;

class KubeletProxyTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;

    // The kubelet's own CA and serving certificate: not the cluster's.
    pki::Credential kubelet_ca = pki::SelfSignedCa("kubelet-ca").value();
    pki::CertSpec spec;
    spec.common_name = "n1";
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    pki::Credential serving = pki::Issue(kubelet_ca, spec).value();
    http::ServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.cert_pem = serving.cert_pem;
    o.key_pem = serving.key_pem;
    o.client_ca_pem = ca_;  // the cluster CA signed the apiserver's client certificate
    auto kubelet = http::HttpsServer::Start(
        o, [this](const http::Request& req, http::Response& w) { Kubelet(req, w); });
    ASSERT_TRUE(kubelet.ok()) << kubelet.error().str();
    kubelet_ = std::move(*kubelet);

    client_ = std::make_unique<http::TlsClient>(server_->port(), ca_, &admin_);
    std::string node = R"({"metadata":{"name":"n1"}})";
    ASSERT_EQ(client_->Do(verb::post, "/api/v1/nodes", node).result_int(), 201);
    std::string status = R"({"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],
        "daemonEndpoints":{"kubeletEndpoint":{"Port":)" +
                         std::to_string(kubelet_->port()) + "}}}}";
    ASSERT_EQ(
        client_->Do(verb::patch, "/api/v1/nodes/n1/status", status, "application/merge-patch+json")
            .result_int(),
        200);
    std::string pod = R"({"metadata":{"name":"p"},"spec":{"nodeName":"n1",
        "containers":[{"name":"c","image":"busybox"}]}})";
    ASSERT_EQ(client_->Do(verb::post, "/api/v1/namespaces/default/pods", pod).result_int(), 201);
  }

  void Kubelet(const http::Request& req, http::Response& w) {
    {
      std::lock_guard lock(mu_);
      seen_.push_back(req.method + " " + req.target + " by " +
                      (req.peer.verified ? req.peer.common_name : "nobody"));
    }
    if (req.path == "/containerLogs/default/p/c") {
      (void)w.StartStream(200, "text/plain");
      (void)w.WriteChunk("line one\n");
      (void)w.WriteChunk("line two\n");
      (void)w.EndStream();
      return;
    }
    if (req.path == "/exec/default/p/c" && !req.Header("upgrade").empty()) {
      (void)w.Hijack("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " +
                         req.Header("upgrade") + "\r\n\r\n",
                     [](http::RawStream& s) {
                       char buf[256];
                       for (;;) {  // an echo: what the client sends comes back
                         Result<size_t> n = s.ReadSome(buf, sizeof buf);
                         if (!n.ok() || *n == 0 || !s.WriteAll(std::string_view(buf, *n)).ok())
                           return;
                       }
                     });
      return;
    }
    (void)w.Send(404, "text/plain", "no such kubelet path\n");
  }

  std::vector<std::string> Seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  std::unique_ptr<http::HttpsServer> kubelet_;
  std::unique_ptr<http::TlsClient> client_;
  std::mutex mu_;
  std::vector<std::string> seen_;
};

TEST_F(KubeletProxyTest, KubectlLogsReachTheKubeletWithTheApiserverCertificate) {
  std::string kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
  BERTH_REQUIRE(PathExists(kubectl), kubectl + " (preinstalled on this machine)");
  Command cmd;
  cmd.argv = {kubectl, "--kubeconfig", server_->admin_kubeconfig(), "logs", "p", "--tail=5"};
  cmd.timeout = std::chrono::seconds(60);
  Result<CommandResult> out = RunCommand(cmd);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->exit_code, 0) << out->err;
  EXPECT_EQ(out->out, "line one\nline two\n");
  std::vector<std::string> seen = Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "GET /containerLogs/default/p/c?tailLines=5 by kube-apiserver-kubelet-client");
}

TEST_F(KubeletProxyTest, ExecUpgradesAndCopiesBytesBothWays) {
  http::TlsClient exec(server_->port(), ca_, &admin_);
  int status = exec.Upgrade(
      verb::post, "/api/v1/namespaces/default/pods/p/exec?command=cat&stdin=true", "SPDY/3.1");
  ASSERT_EQ(status, 101);
  exec.WriteRaw("ping");
  std::string back;
  while (back.size() < 4) {
    std::string got = exec.ReadRaw();
    ASSERT_FALSE(got.empty()) << "the stream closed";
    back += got;
  }
  EXPECT_EQ(back, "ping");
  std::vector<std::string> seen = Seen();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen[0],
            "POST /exec/default/p/c?command=cat&stdin=true by kube-apiserver-kubelet-client");

  // The kubelet's own answer comes back; a pod with two containers needs
  // one named, before anything else is checked.
  auto logs = client_->Do(verb::get, "/api/v1/namespaces/default/pods/p/log?container=nope");
  EXPECT_EQ(logs.result_int(), 404) << logs.body();  // the kubelet has no such container
  auto unbound = client_->Do(verb::post, "/api/v1/namespaces/default/pods",
                             R"({"metadata":{"name":"q"},"spec":{"containers":[
                                {"name":"a","image":"i"},{"name":"b","image":"i"}]}})");
  ASSERT_EQ(unbound.result_int(), 201);
  auto which = client_->Do(verb::get, "/api/v1/namespaces/default/pods/q/log");
  EXPECT_EQ(which.result_int(), 400);
  EXPECT_NE(which.body().find("choose one of: [a b]"), std::string::npos) << which.body();
  auto no_host = client_->Do(verb::get, "/api/v1/namespaces/default/pods/q/log?container=a");
  EXPECT_EQ(no_host.result_int(), 400);
  EXPECT_NE(no_host.body().find("does not have a host assigned"), std::string::npos);
}

}  // namespace
}  // namespace berth::controlplane
