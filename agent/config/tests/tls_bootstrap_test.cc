// TLS bootstrap against a berth server and controller manager in this
// process: a bootstrap token's request is approved and signed, the pair is
// stored and the kubeconfig written; a denied request, a timeout and a
// refused token fail clearly; a restart resumes the same request.

#include "agent/config/tls_bootstrap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "agent/config/client_cert_store.h"
#include "agent/config/kubeconfig.h"
#include "common/base64.h"
#include "common/file.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using controlplane::client::ApiClient;
using controlplane::client::ClientConfig;

constexpr char kCsrs[] = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
constexpr char kToken[] = "abcdef.0123456789abcdef";

class TlsBootstrapTest : public controlplane::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    admin_ = std::make_unique<ApiClient>(AdminConfig());
    AddBootstrapToken();
    options_.kubeconfig = work_ / "kubelet.conf";
    options_.bootstrap_kubeconfig = BootstrapKubeconfig(kToken);
    options_.cert_dir = work_ / "pki";
    options_.node_name = "n1";
    options_.timeout = std::chrono::seconds(20);
  }

  void StartControllers() {
    controlplane::controllers::ControllerManagerOptions o;
    o.controllers = {"csrapproving", "csrsigning"};
    controlplane::StartTestControllers(*server_, manager_, o);
  }

  void AddBootstrapToken() {
    bj::object secret{
        {"metadata", bj::object{{"name", "bootstrap-token-abcdef"}}},
        {"type", "bootstrap.kubernetes.io/token"},
        {"data", bj::object{{"token-id", Base64Encode("abcdef")},
                            {"token-secret", Base64Encode("0123456789abcdef")},
                            {"usage-bootstrap-authentication", Base64Encode("true")}}}};
    auto r = admin_->Do("POST", "/api/v1/namespaces/kube-system/secrets", bj::serialize(secret));
    ASSERT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.error().str());
  }

  std::string BootstrapKubeconfig(const std::string& token) {
    ClientConfig c;
    c.ca_pem = ca_;
    c.bearer_token = token;
    std::string path = work_ / ("bootstrap-" + token.substr(0, 3) + ".conf");
    EXPECT_TRUE(
        WriteKubeconfig(path, c, "https://127.0.0.1:" + std::to_string(server_->port())).ok());
    return path;
  }

  bj::array Csrs() {
    auto r = admin_->Do("GET", kCsrs);
    EXPECT_TRUE(r.ok() && r->status == 200);
    return r.ok() ? r->Json().at("items").as_array() : bj::array();
  }

  std::string Username(const ClientConfig& c) {
    ApiClient api(c);
    auto who = api.Do("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "{}");
    if (!who.ok()) return who.error().str();
    return std::string(who->Json().at("status").at("userInfo").at("username").as_string());
  }

  berth::testing::TempDir work_{"berth-tls-bootstrap"};
  std::unique_ptr<ApiClient> admin_;
  std::unique_ptr<controlplane::controllers::ControllerManager> manager_;
  TlsBootstrapOptions options_;
};

TEST_F(TlsBootstrapTest, GetsACertificateAndWritesTheKubeconfig) {
  StartControllers();
  auto config = LoadOrBootstrapClientConfig(options_);
  ASSERT_TRUE(config.ok()) << config.error().str();
  EXPECT_EQ(Username(*config), "system:node:n1");

  bj::array csrs = Csrs();
  ASSERT_EQ(csrs.size(), 1U);
  const bj::object& csr = csrs[0].as_object();
  EXPECT_TRUE(csr.at("metadata").at("name").as_string().starts_with("node-csr-"));
  EXPECT_EQ(csr.at("spec").at("signerName"), "kubernetes.io/kube-apiserver-client-kubelet");
  EXPECT_EQ(csr.at("spec").at("usages"), (bj::array{"digital signature", "client auth"}));
  EXPECT_EQ(csr.at("spec").at("username"), "system:bootstrap:abcdef");

  // kubelet's layout: a symlinked pair file the kubeconfig names twice.
  std::string current = CurrentClientCertPath(options_.cert_dir);
  char target[256] = {};
  ASSERT_GT(::readlink(current.c_str(), target, sizeof target - 1), 0);
  EXPECT_TRUE(std::string(target).starts_with("kubelet-client-")) << target;
  auto written = ReadKubeconfig(options_.kubeconfig);
  ASSERT_TRUE(written.ok()) << written.error().str();
  EXPECT_EQ(written->client_certificate_file, current);
  EXPECT_EQ(written->client_key_file, current);
  EXPECT_TRUE(written->client.bearer_token.empty());
  EXPECT_FALSE(PathExists(options_.cert_dir + "/kubelet-client.key.tmp"));

  // Started again: the kubeconfig is still good, no new request.
  auto again = LoadOrBootstrapClientConfig(options_);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_EQ(again->certificate.cert_pem, config->certificate.cert_pem);
  EXPECT_EQ(Csrs().size(), 1U);
}

TEST_F(TlsBootstrapTest, ADeniedRequestIsAClearError) {
  std::atomic<bool> stop = false;
  std::thread denier([&] {
    ApiClient admin(AdminConfig());
    while (!stop) {
      auto list = admin.Do("GET", kCsrs);
      if (list.ok() && list->status == 200 && !list->Json().at("items").as_array().empty()) {
        bj::object csr = list->Json().at("items").at(0).as_object();
        csr["status"] =
            bj::object{{"conditions", bj::array{bj::object{{"type", "Denied"},
                                                           {"status", "True"},
                                                           {"reason", "NotOnMyWatch"},
                                                           {"message", "unknown machine"}}}}};
        std::string name(csr.at("metadata").at("name").as_string());
        auto r = admin.Do("PUT", std::string(kCsrs) + "/" + name + "/approval", bj::serialize(csr));
        if (r.ok() && r->status == 200) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto config = LoadOrBootstrapClientConfig(options_);
  stop = true;
  denier.join();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Errc::kPermissionDenied);
  EXPECT_NE(config.error().str().find("is denied, reason: NotOnMyWatch, message: unknown machine"),
            std::string::npos)
      << config.error().str();
  EXPECT_FALSE(PathExists(options_.kubeconfig));
}

TEST_F(TlsBootstrapTest, TimesOutThenAResumedAgentFinishesTheSameRequest) {
  options_.timeout = std::chrono::seconds(1);
  auto first = LoadOrBootstrapClientConfig(options_);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code(), Errc::kDeadlineExceeded);
  EXPECT_NE(first.error().str().find("not approved"), std::string::npos) << first.error().str();
  ASSERT_EQ(Csrs().size(), 1U);
  std::string name(Csrs()[0].at("metadata").at("name").as_string());

  StartControllers();
  options_.timeout = std::chrono::seconds(20);
  auto second = LoadOrBootstrapClientConfig(options_);
  ASSERT_TRUE(second.ok()) << second.error().str();
  ASSERT_EQ(Csrs().size(), 1U) << "the same request, not a second one";
  EXPECT_EQ(Csrs()[0].at("metadata").at("name").as_string(), name);
  EXPECT_EQ(Username(*second), "system:node:n1");
}

TEST_F(TlsBootstrapTest, ARefusedTokenAndAMissingKubeconfig) {
  options_.bootstrap_kubeconfig = BootstrapKubeconfig("zzzzzz.0000000000000000");
  auto refused = LoadOrBootstrapClientConfig(options_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Errc::kUnauthenticated) << refused.error().str();

  options_.bootstrap_kubeconfig.clear();
  auto missing = LoadOrBootstrapClientConfig(options_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().str().find("--kubeconfig"), std::string::npos);
  EXPECT_NE(missing.error().str().find(options_.kubeconfig), std::string::npos);
}

TEST(KubeletCsrNameTest, DependsOnKeySubjectAndUsages) {
  std::string key = pki::NewSigningKey().value();
  std::vector<std::string> usages = {"digital signature", "client auth"};
  std::string a = KubeletCsrName(key, "system:node:a", {"system:nodes"}, usages).value();
  EXPECT_EQ(a, KubeletCsrName(key, "system:node:a", {"system:nodes"}, usages).value());
  EXPECT_TRUE(a.starts_with("node-csr-"));
  EXPECT_EQ(a.size(), std::string("node-csr-").size() + 43);  // 32 bytes, base64url
  EXPECT_NE(a, KubeletCsrName(key, "system:node:b", {"system:nodes"}, usages).value());
  EXPECT_NE(a, KubeletCsrName(key, "system:node:a", {"system:nodes"}, {"client auth"}).value());
  EXPECT_NE(a,
            KubeletCsrName(pki::NewSigningKey().value(), "system:node:a", {"system:nodes"}, usages)
                .value());
}

// The expected name was computed apart from this code (Python's hashlib
// SHA-512/256 and base64.urlsafe_b64encode over upstream's digestedName
// stream) for this fixed key.
TEST(KubeletCsrNameTest, MatchesUpstreamsDigestedName) {
  const std::string key =
      "-----BEGIN EC PRIVATE KEY-----\n"
      "MHcCAQEEIF5H55nYOdBYOyT5kFeabHiFP0+E5f7f+COnB9/b4FPloAoGCCqGSM49\n"
      "AwEHoUQDQgAEJ27nkczEulrDUdF/OEjvSNgVf0OkV0+zQjkKxpbQlZ/IrdxpP3EC\n"
      "7Cvs6Q1fBP9jwn1CKJO08e5Uya0hJsD1fg==\n"
      "-----END EC PRIVATE KEY-----\n";
  EXPECT_EQ(
      KubeletCsrName(key, "system:node:a", {"system:nodes"}, {"digital signature", "client auth"})
          .value(),
      "node-csr-VkFi7kMBslxIsXIjdJXrELvg5WaacXnjY3zUWobDzw0");
}

}  // namespace
}  // namespace berth::agent
