// The CSR approver and signer against a berth server in this process, as
// a joining kubelet drives them: a bootstrap token asks for a client
// certificate, a node renews its own and asks for a serving certificate;
// requests that do not fit stay pending or fail the signer's validation.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/base64.h"
#include "common/pki/pki.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;
using client::ApiClient;
using client::ClientConfig;

constexpr char kCsrs[] = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
constexpr char kToken[] = "abcdef.0123456789abcdef";

class CsrTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    admin_api_ = std::make_unique<ApiClient>(Config(admin_));
    ControllerManagerOptions options;
    options.controllers = {"csrapproving", "csrsigning"};
    options.signing_ca = server_->pki().ca;
    StartTestControllers(*server_, manager_, options);
  }

  ClientConfig Config(const pki::Credential& cert, const std::string& token = "") {
    ClientConfig c;
    c.port = server_->port();
    c.ca_pem = ca_;
    c.certificate = cert;
    c.bearer_token = token;
    return c;
  }

  // A node's own credential, as the kubelet holds after bootstrap.
  pki::Credential NodeCredential(const std::string& node) {
    pki::CertSpec spec;
    spec.common_name = "system:node:" + node;
    spec.organizations = {"system:nodes"};
    spec.client_auth = true;
    return pki::Issue(server_->pki().ca, spec).value();
  }

  void BootstrapToken() {
    auto b64 = [](const std::string& s) { return Base64Encode(s); };
    bj::object secret{{"metadata", bj::object{{"name", "bootstrap-token-abcdef"}}},
                      {"type", "bootstrap.kubernetes.io/token"},
                      {"data", bj::object{{"token-id", b64("abcdef")},
                                          {"token-secret", b64("0123456789abcdef")},
                                          {"usage-bootstrap-authentication", b64("true")}}}};
    auto r =
        admin_api_->Do("POST", "/api/v1/namespaces/kube-system/secrets", bj::serialize(secret));
    ASSERT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.error().str());
  }

  // Creates a CSR as `api`'s identity; the request's private key.
  std::string Request(ApiClient& api, const std::string& name, const pki::CertSpec& subject,
                      const std::string& signer, bj::array usages, int64_t expiration = 0) {
    pki::CertificateRequest req = pki::NewCertificateRequest(subject).value();
    bj::object spec{{"request", Base64Encode(req.csr_pem)},
                    {"signerName", signer},
                    {"usages", std::move(usages)}};
    if (expiration > 0) spec["expirationSeconds"] = expiration;
    bj::object csr{{"apiVersion", "certificates.k8s.io/v1"},
                   {"kind", "CertificateSigningRequest"},
                   {"metadata", bj::object{{"name", name}}},
                   {"spec", std::move(spec)}};
    auto r = api.Do("POST", kCsrs, bj::serialize(csr));
    EXPECT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.error().str());
    return req.key_pem;
  }

  bj::object Get(const std::string& name) {
    auto r = admin_api_->Do("GET", std::string(kCsrs) + "/" + name);
    EXPECT_TRUE(r.ok() && r->status == 200);
    return r.ok() && r->Json().is_object() ? r->Json().as_object() : bj::object{};
  }

  // Waits (5 s) for the CSR's certificate; "" if none came.
  std::string WaitCertificate(const std::string& name) {
    for (int i = 0; i < 250; ++i) {
      std::string cert = StringAt(Get(name), {"status", "certificate"});
      if (!cert.empty()) return Base64Decode(cert).value_or("");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
  }

  std::string ConditionMessage(const bj::object& csr, const std::string& type) {
    const bj::value* status = csr.if_contains("status");
    if (status == nullptr || !status->as_object().contains("conditions")) return "";
    for (const bj::value& c : status->as_object().at("conditions").as_array()) {
      if (StringAt(c.as_object(), {"type"}) == type) return StringAt(c.as_object(), {"message"});
    }
    return "";
  }

  static pki::CertSpec NodeSubject(const std::string& node) {
    pki::CertSpec s;
    s.common_name = "system:node:" + node;
    s.organizations = {"system:nodes"};
    return s;
  }

  std::unique_ptr<ApiClient> admin_api_;
  std::unique_ptr<ControllerManager> manager_;
};

TEST_F(CsrTest, ABootstrapTokenGetsAKubeletClientCertificate) {
  BootstrapToken();
  ApiClient joining(Config({}, kToken));
  std::string key = Request(joining, "node-csr-n1", NodeSubject("n1"),
                            "kubernetes.io/kube-apiserver-client-kubelet",
                            bj::array{"digital signature", "key encipherment", "client auth"});
  std::string cert = WaitCertificate("node-csr-n1");
  ASSERT_FALSE(cert.empty()) << bj::serialize(Get("node-csr-n1"));
  EXPECT_EQ(ConditionMessage(Get("node-csr-n1"), "Approved"),
            "Auto approving kubelet client certificate after SubjectAccessReview.");
  EXPECT_TRUE(pki::Verify(cert, ca_).ok());
  pki::CertInfo info = pki::Inspect(cert).value();
  EXPECT_EQ(info.common_name, "system:node:n1");
  EXPECT_EQ(info.organizations, std::vector<std::string>{"system:nodes"});

  // The issued pair is a working node identity.
  ApiClient node(Config({cert, key}));
  auto who = node.Do("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "{}");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(StringAt(who->Json().as_object(), {"status", "userInfo", "username"}),
            "system:node:n1");
}

TEST_F(CsrTest, ANodeRenewsItsOwnClientCertificateButNoOneElses) {
  ApiClient node(Config(NodeCredential("n1")));
  Request(node, "renew", NodeSubject("n1"), "kubernetes.io/kube-apiserver-client-kubelet",
          bj::array{"digital signature", "client auth"}, 3600);
  std::string cert = WaitCertificate("renew");
  ASSERT_FALSE(cert.empty());
  EXPECT_EQ(ConditionMessage(Get("renew"), "Approved"),
            "Auto approving self kubelet client certificate after SubjectAccessReview.");
  pki::CertInfo info = pki::Inspect(cert).value();
  EXPECT_LE(info.not_after - info.not_before, 3600 + 300) << "expirationSeconds honoured";

  Request(node, "steal", NodeSubject("n2"), "kubernetes.io/kube-apiserver-client-kubelet",
          bj::array{"digital signature", "client auth"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  bj::object steal = Get("steal");
  EXPECT_EQ(ConditionMessage(steal, "Approved"), "");
  EXPECT_EQ(StringAt(steal, {"status", "certificate"}), "");
}

TEST_F(CsrTest, ServingCertificatesOnlyForTheNodesOwnAddresses) {
  bj::object node{{"metadata", bj::object{{"name", "n1"}}}};
  ASSERT_EQ(admin_api_->Do("POST", "/api/v1/nodes", bj::serialize(node))->status, 201);
  bj::object addresses{
      {"status", bj::object{{"addresses",
                             bj::array{bj::object{{"type", "InternalIP"}, {"address", "10.0.0.5"}},
                                       bj::object{{"type", "Hostname"}, {"address", "n1"}}}}}}};
  ASSERT_EQ(admin_api_
                ->Do("PATCH", "/api/v1/nodes/n1/status", bj::serialize(addresses),
                     "application/merge-patch+json")
                ->status,
            200);
  ApiClient kubelet(Config(NodeCredential("n1")));
  pki::CertSpec serving = NodeSubject("n1");
  serving.dns_names = {"n1"};
  serving.ip_addresses = {"10.0.0.5"};
  Request(kubelet, "serving", serving, "kubernetes.io/kubelet-serving",
          bj::array{"digital signature", "key encipherment", "server auth"});
  std::string cert = WaitCertificate("serving");
  ASSERT_FALSE(cert.empty()) << bj::serialize(Get("serving"));
  EXPECT_EQ(pki::Inspect(cert)->ip_addresses, std::vector<std::string>{"10.0.0.5"});

  serving.ip_addresses = {"10.9.9.9"};
  Request(kubelet, "serving-other-ip", serving, "kubernetes.io/kubelet-serving",
          bj::array{"digital signature", "server auth"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(ConditionMessage(Get("serving-other-ip"), "Approved"), "");
}

TEST_F(CsrTest, TheSignerFailsAnApprovedRequestItCannotSign) {
  // An administrator approves by hand a request that is no kubelet's.
  pki::CertSpec wrong;
  wrong.common_name = "system:node:n1";
  wrong.organizations = {"system:masters"};
  Request(*admin_api_, "bad", wrong, "kubernetes.io/kube-apiserver-client-kubelet",
          bj::array{"digital signature", "client auth"});
  bj::object csr = Get("bad");
  csr["status"] = bj::object{
      {"conditions",
       bj::array{bj::object{
           {"type", "Approved"}, {"status", "True"}, {"reason", "ByHand"}, {"message", "ok"}}}}};
  auto approved = admin_api_->Do("PUT", std::string(kCsrs) + "/bad/approval", bj::serialize(csr));
  ASSERT_TRUE(approved.ok() && approved->status == 200) << approved->body;
  std::string message;
  for (int i = 0; i < 250 && message.empty(); ++i) {
    message = ConditionMessage(Get("bad"), "Failed");
    if (message.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(message, "subject organization is not exactly [system:nodes]");
  EXPECT_EQ(StringAt(Get("bad"), {"status", "certificate"}), "");
}

}  // namespace
}  // namespace berth::controlplane::controllers
