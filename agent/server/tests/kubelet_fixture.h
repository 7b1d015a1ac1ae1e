#pragma once
// The kubelet API test bed, without root: berth's apiserver in process
// (ServerTest) with node n1 and pod default/p (containers c, d, e), the
// kubelet API for n1 in front of a fake CRI runtime (sandbox s1; c-old
// exited, c-new and d-1 running, log files written), whose streaming URLs
// come from a real streaming server running host processes.

#include <fcntl.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/server/kubelet_server.h"
#include "agent/server/tests/fake_runtime.h"
#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/client/api_client.h"
#include "controlplane/server/tests/test_server.h"
#include "controlplane/server/tests/tls_client.h"
#include "runtime/cri/streaming/tests/test_backend.h"

namespace berth::agent::testing {

namespace bj = boost::json;
using namespace std::chrono_literals;
using controlplane::http::TlsClient;
using controlplane::http::bhttp::verb;
using kubelet::testing::FakeContainer;
using kubelet::testing::FakeRuntime;
using kubelet::testing::FakeSandbox;
using kubelet::testing::InProcessCri;

inline constexpr const char* kKubectlDir = "/usr/lib/google-cloud-sdk/bin/";
inline constexpr int64_t kT0 = 1'700'000'000LL * 1'000'000'000;

struct Reply {
  int status = 0;
  std::string body;
};

class KubeletServerTest : public controlplane::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    admin_api_ = std::make_unique<controlplane::client::ApiClient>(AdminConfig());
    ASSERT_EQ(Api("POST", "/api/v1/nodes", R"({"metadata":{"name":"n1"}})").status, 201);
    Reply pod = Api("POST", "/api/v1/namespaces/default/pods", R"({"metadata":{"name":"p"},
        "spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"},
        {"name":"d","image":"busybox"},{"name":"e","image":"busybox"}]}})");
    ASSERT_EQ(pod.status, 201) << pod.body;
    pod_ = bj::parse(pod.body).as_object();
    uid_ = std::string(pod_.at("metadata").at("uid").as_string());

    backend_ = std::make_shared<cri::streaming::testing::TestBackend>();
    streaming_ = std::make_unique<cri::streaming::Server>(backend_);
    ASSERT_TRUE(streaming_->Start("127.0.0.1:0").ok());
    runtime_ = std::make_unique<FakeRuntime>(streaming_.get());
    runtime_->AddSandbox({"s1", "default", "p", uid_, true, kT0});
    std::string logs = logs_dir_.path() + "/default_p_" + uid_;
    ASSERT_TRUE(MkdirAll(logs + "/c", 0755).ok());
    ASSERT_TRUE(WriteFile(logs + "/c/0.log",
                          "2023-11-14T22:13:21Z stdout F old line 1\n"
                          "2023-11-14T22:13:22Z stderr F old line 2\n")
                    .ok());
    ASSERT_TRUE(WriteFile(logs + "/c/1.log",
                          "2023-11-14T22:14:01Z stdout F new 1\n"
                          "2023-11-14T22:14:02Z stdout F new 2\n"
                          "2023-11-14T22:14:03.5Z stderr F new 3\n")
                    .ok());
    runtime_->AddContainer(
        {"c-old", "s1", "c", v1::CONTAINER_EXITED, kT0 + 1, 0, 1, logs + "/c/0.log", 0, 0});
    runtime_->AddContainer({"c-new", "s1", "c", v1::CONTAINER_RUNNING, kT0 + 2, 1, 0,
                            logs + "/c/1.log", 3'000'000'000, 5000});
    runtime_->AddContainer(
        {"d-1", "s1", "d", v1::CONTAINER_RUNNING, kT0 + 3, 0, 0, "", 1'000'000'000, 7000});
    cri_ = std::make_unique<InProcessCri>(*runtime_);

    // The agent's own identity, as the node authorizer knows it.
    pki::Credential ca{ReadFile(dir_ / "pki/ca.crt").value(),
                       ReadFile(dir_ / "pki/ca.key").value()};
    node_cred_ = Credential(ca, "system:node:n1", {"system:nodes"});
    alice_ = Credential(ca, "alice", {"developers"});
    controlplane::client::ClientConfig node = AdminConfig();
    node.certificate = node_cred_;
    node_api_ = std::make_unique<controlplane::client::ApiClient>(node);

    KubeletServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.root_dir = root_dir_.path();
    o.node_name = "n1";
    o.node_ips = {"127.0.0.1"};
    o.client_ca_pem = ca_;
    o.pod_logs_dir = logs_dir_.path();
    KubeletServerDeps d;
    d.cri = &cri_->client();
    d.api = node_api_.get();
    d.pods = [this] {
      std::lock_guard lock(mu_);
      return std::vector<bj::object>{pod_};
    };
    d.syncloop_healthy = [this]() -> Status {
      std::lock_guard lock(mu_);
      return syncloop_ok_ ? Ok() : Error(Errc::kUnavailable, "sync loop stuck");
    };
    auto kubelet = KubeletServer::Start(o, d);
    ASSERT_TRUE(kubelet.ok()) << kubelet.error().str();
    kubelet_ = std::move(*kubelet);
    kubelet_ca_ = ReadFile(root_dir_ / "pki/kubelet.crt").value();

    std::string status = R"({"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],
        "daemonEndpoints":{"kubeletEndpoint":{"Port":)" +
                         std::to_string(kubelet_->port()) + "}}}}";
    ASSERT_EQ(
        Api("PATCH", "/api/v1/nodes/n1/status", status, "application/merge-patch+json").status,
        200);
    // kubectl port-forward wants a running pod.
    ASSERT_EQ(Api("PATCH", "/api/v1/namespaces/default/pods/p/status",
                  R"({"status":{"phase":"Running"}})", "application/merge-patch+json")
                  .status,
              200);
  }

  void TearDown() override {
    if (kubelet_) kubelet_->Stop();
  }

  static pki::Credential Credential(const pki::Credential& ca, const std::string& cn,
                                    std::vector<std::string> groups) {
    pki::CertSpec spec;
    spec.common_name = cn;
    spec.organizations = std::move(groups);
    spec.client_auth = true;
    return pki::Issue(ca, spec).value();
  }

  Reply Api(const std::string& method, const std::string& target, const std::string& body = "",
            const std::string& type = "application/json") {
    Result<controlplane::client::ApiResponse> r = admin_api_->Do(method, target, body, type);
    if (!r.ok()) return {0, r.error().str()};
    return {r->status, r->body};
  }

  // A request straight to the kubelet API as `who` (nullptr: no
  // certificate), with a bearer token when given.
  Reply Kubelet(verb v, const std::string& target, const pki::Credential* who,
                const std::string& token = "") {
    TlsClient client(kubelet_->port(), kubelet_ca_, who);
    auto res = client.Do(v, target, "", "application/json", "", token);
    return {static_cast<int>(res.result_int()), res.body()};
  }
  Reply AsAdmin(const std::string& target, verb v = verb::get) {
    return Kubelet(v, target, &admin_);
  }

  std::string Kubectl(const std::string& version) {
    std::string path = std::string(kKubectlDir) + "kubectl." + version;
    return PathExists(path) ? path : "";
  }

  CommandResult RunKubectl(const std::string& kubectl, std::vector<std::string> args,
                           const std::string& stdin_data = "") {
    Command cmd;
    cmd.argv = {kubectl, "--kubeconfig", server_->admin_kubeconfig()};
    cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
    cmd.stdin_data = stdin_data;
    cmd.timeout = 30s;
    Result<CommandResult> out = RunCommand(cmd);
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : CommandResult{};
  }

  void SetPod(bj::object pod) {
    std::lock_guard lock(mu_);
    pod_ = std::move(pod);
  }

  berth::testing::TempDir root_dir_{"berth-kubelet-root"};
  berth::testing::TempDir logs_dir_{"berth-kubelet-logs"};
  std::unique_ptr<controlplane::client::ApiClient> admin_api_;
  std::shared_ptr<cri::streaming::testing::TestBackend> backend_;
  std::unique_ptr<cri::streaming::Server> streaming_;
  std::unique_ptr<FakeRuntime> runtime_;
  std::unique_ptr<InProcessCri> cri_;
  std::unique_ptr<controlplane::client::ApiClient> node_api_;
  std::unique_ptr<KubeletServer> kubelet_;
  pki::Credential node_cred_;
  pki::Credential alice_;
  std::string kubelet_ca_;
  std::string uid_;
  std::mutex mu_;
  bj::object pod_;
  bool syncloop_ok_ = true;
};

}  // namespace berth::agent::testing
