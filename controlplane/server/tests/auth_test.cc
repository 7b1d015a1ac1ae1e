// Authentication and authorization end to end: client certificates,
// static, service-account and bootstrap tokens; system:masters, the Node
// authorizer, RBAC and impersonation; every refusal a Status.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "common/base64.h"
#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/server/apiserver.h"
#include "controlplane/server/tests/test_server.h"
#include "controlplane/server/tests/tls_client.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;
using http::bhttp::verb;

constexpr char kKubectlDir[] = "/usr/lib/google-cloud-sdk/bin/";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteFile(dir_.path() + "/tokens.csv", "viewer-token,viewer,uid-v\n").ok());
    ApiServerOptions o = TestServerOptions(dir_.path());
    o.token_auth_file = dir_.path() + "/tokens.csv";
    StartTestServer(o, server_);
    ASSERT_NE(server_, nullptr);
    ca_.cert_pem = ReadFile(dir_.path() + "/pki/ca.crt").value();
    ca_.key_pem = ReadFile(dir_.path() + "/pki/ca.key").value();
    admin_.cert_pem = ReadFile(dir_.path() + "/pki/admin.crt").value();
    admin_.key_pem = ReadFile(dir_.path() + "/pki/admin.key").value();
  }

  pki::Credential NodeCredential(const std::string& node) {
    pki::CertSpec spec;
    spec.common_name = "system:node:" + node;
    spec.organizations = {"system:nodes"};
    spec.client_auth = true;
    return pki::Issue(ca_, spec).value();
  }

  // A request as the holder of `cred` (null: a bearer token or nobody).
  std::pair<int, bj::value> As(const pki::Credential* cred, verb v, const std::string& target,
                               const std::string& body = "", const std::string& token = "") {
    http::TlsClient client(server_->port(), ca_.cert_pem, cred);
    auto res = client.Do(v, target, body, "application/json", "", token);
    boost::system::error_code ec;
    bj::value parsed = bj::parse(res.body(), ec);
    if (ec) parsed = bj::string(res.body());
    return {res.result_int(), parsed};
  }

  berth::testing::TempDir dir_{"berth-auth"};
  std::unique_ptr<ApiServer> server_;
  pki::Credential ca_;
  pki::Credential admin_;
};

void ExpectForbidden(const std::pair<int, bj::value>& r, const std::string& fragment) {
  EXPECT_EQ(r.first, 403) << bj::serialize(r.second);
  ASSERT_TRUE(r.second.is_object()) << bj::serialize(r.second);
  EXPECT_EQ(r.second.at("kind"), "Status");
  EXPECT_EQ(r.second.at("reason"), "Forbidden");
  std::string message(r.second.at("message").as_string());
  EXPECT_NE(message.find(fragment), std::string::npos) << message;
}

TEST_F(AuthTest, NodesReadOnlyTheSecretsTheirPodsReference) {
  ASSERT_EQ(As(&admin_, verb::post, "/api/v1/namespaces/default/secrets",
               R"({"metadata":{"name":"db"},"stringData":{"pw":"x"}})")
                .first,
            201);
  ASSERT_EQ(As(&admin_, verb::post, "/api/v1/namespaces/default/secrets",
               R"({"metadata":{"name":"other"},"stringData":{"pw":"y"}})")
                .first,
            201);
  pki::Credential n1 = NodeCredential("n1");
  pki::Credential n2 = NodeCredential("n2");
  ExpectForbidden(As(&n1, verb::get, "/api/v1/namespaces/default/secrets/db"),
                  "User \"system:node:n1\" cannot get resource \"secrets\"");
  ASSERT_EQ(As(&admin_, verb::post, "/api/v1/namespaces/default/pods",
               R"({"metadata":{"name":"p"},"spec":{"nodeName":"n1","containers":[{"name":"c",
                  "image":"i","env":[{"name":"PW","valueFrom":{"secretKeyRef":{"name":"db",
                  "key":"pw"}}}]}]}})")
                .first,
            201);
  EXPECT_EQ(As(&n1, verb::get, "/api/v1/namespaces/default/secrets/db").first, 200);
  ExpectForbidden(As(&n1, verb::get, "/api/v1/namespaces/default/secrets/other"),
                  "no relationship found between node 'n1'");
  ExpectForbidden(As(&n2, verb::get, "/api/v1/namespaces/default/secrets/db"), "system:node:n2");
  ExpectForbidden(As(&n1, verb::get, "/api/v1/namespaces/default/secrets"), "cannot list");
  // Its own Node, not another's.
  EXPECT_EQ(As(&n1, verb::post, "/api/v1/nodes", R"({"metadata":{"name":"n1"}})").first, 201);
  EXPECT_EQ(As(&n2, verb::post, "/api/v1/nodes", R"({"metadata":{"name":"n2"}})").first, 201);
  EXPECT_EQ(As(&n1, verb::patch, "/api/v1/nodes/n1", R"({"metadata":{"labels":{"a":"b"}}})").first,
            415);  // JSON patch needs its content type: the request got past authorization
  ExpectForbidden(As(&n1, verb::delete_, "/api/v1/nodes/n2"), "may only change its own Node");
  ExpectForbidden(As(&n1, verb::post, "/api/v1/nodes", R"({"metadata":{"name":"n3"}})"),
                  "is not allowed to create node \"n3\"");
  // A node may create mirror pods of its own only (NodeRestriction), and
  // none that name a secret it wants.
  ExpectForbidden(As(&n2, verb::post, "/api/v1/namespaces/default/pods",
                     R"({"metadata":{"name":"steal"},"spec":{"nodeName":"n2","containers":[
                        {"name":"c","image":"i","envFrom":[{"secretRef":{"name":"db"}}]}]}})"),
                  "node \"n2\" can only create mirror pods");
  ExpectForbidden(
      As(&n2, verb::post, "/api/v1/namespaces/default/pods",
         R"({"metadata":{"name":"steal","annotations":{"kubernetes.io/config.mirror":"h"}},
             "spec":{"nodeName":"n2","containers":[
               {"name":"c","image":"i","envFrom":[{"secretRef":{"name":"db"}}]}]}})"),
      "node \"n2\" can not create pods that reference secrets");
  ExpectForbidden(
      As(&n2, verb::post, "/api/v1/namespaces/default/pods",
         R"({"metadata":{"name":"elsewhere","annotations":{"kubernetes.io/config.mirror":"h"}},
             "spec":{"nodeName":"n1","containers":[{"name":"c","image":"i"}]}})"),
      "can only create pods with spec.nodeName set to itself");
  EXPECT_EQ(
      As(&n2, verb::post, "/api/v1/namespaces/default/pods",
         R"({"metadata":{"name":"static-n2","annotations":{"kubernetes.io/config.mirror":"h"}},
                   "spec":{"nodeName":"n2","containers":[{"name":"c","image":"i"}]}})")
          .first,
      201);
  EXPECT_EQ(As(&n1, verb::get, "/api/v1/pods").first, 200);
}

TEST_F(AuthTest, RbacReadOnlyUserCannotWrite) {
  std::string view_binding = R"({"metadata":{"name":"viewer"},
      "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
      "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"viewer"}]})";
  auto viewer = [&](verb v, const std::string& target, const std::string& body = "") {
    return As(nullptr, v, target, body, "viewer-token");
  };
  ExpectForbidden(viewer(verb::get, "/api/v1/namespaces/default/configmaps"), "cannot list");
  ASSERT_EQ(As(&admin_, verb::post, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
               view_binding)
                .first,
            201);
  EXPECT_EQ(viewer(verb::get, "/api/v1/namespaces/default/configmaps").first, 200);
  ExpectForbidden(
      viewer(verb::post, "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"x"}})"),
      "User \"viewer\" cannot create resource \"configmaps\" in API group \"\" in "
      "the namespace \"default\"");
  ExpectForbidden(viewer(verb::get, "/api/v1/namespaces/default/secrets"), "cannot list");
  // Impersonation is itself authorized.
  http::TlsClient client(server_->port(), ca_.cert_pem, nullptr);
  auto res = client.Do(verb::get, "/api/v1/namespaces/default/secrets", "", "", "", "viewer-token",
                       {{"Impersonate-User", "kubernetes-admin"}});
  EXPECT_EQ(res.result_int(), 403) << res.body();
  EXPECT_EQ(As(nullptr, verb::get, "/api/v1/namespaces").first, 401);
}

TEST_F(AuthTest, NamespaceRightsStayInTheNamespace) {
  ASSERT_EQ(As(&admin_, verb::post, "/api/v1/namespaces", R"({"metadata":{"name":"team"}})").first,
            201);
  ASSERT_EQ(
      As(&admin_, verb::post, "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings",
         R"({"metadata":{"name":"viewer-admin"},
                   "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole",
                              "name":"cluster-admin"},
                   "subjects":[{"kind":"User","name":"viewer"}]})")
          .first,
      201);
  auto viewer = [&](verb v, const std::string& target, const std::string& body = "") {
    return As(nullptr, v, target, body, "viewer-token");
  };
  EXPECT_EQ(viewer(verb::post, "/api/v1/namespaces/team/configmaps", R"({"metadata":{"name":"x"}})")
                .first,
            201);
  // Cluster-scoped types are not reachable through the namespace.
  EXPECT_EQ(viewer(verb::delete_, "/api/v1/namespaces/team/namespaces/kube-system").first, 404);
  EXPECT_EQ(viewer(verb::get, "/api/v1/namespaces/team/nodes").first, 404);
  EXPECT_EQ(viewer(verb::post,
                   "/apis/rbac.authorization.k8s.io/v1/namespaces/team/clusterrolebindings", "{}")
                .first,
            404);
  ExpectForbidden(viewer(verb::delete_, "/api/v1/namespaces/kube-system"), "cannot delete");
  EXPECT_EQ(As(&admin_, verb::get, "/api/v1/namespaces/kube-system").first, 200);

  // A watch of one secret by name sees only that secret.
  ASSERT_EQ(As(&admin_, verb::post, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
               R"({"metadata":{"name":"one"},"rules":[{"apiGroups":[""],"resources":["secrets"],
                   "verbs":["get","watch","list"],"resourceNames":["mine"]}]})")
                .first,
            201);
  ASSERT_EQ(
      As(&admin_, verb::post, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
         R"({"metadata":{"name":"one"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io",
                   "kind":"Role","name":"one"},"subjects":[{"kind":"User","name":"viewer"}]})")
          .first,
      201);
  for (const char* name : {"mine", "theirs"}) {
    ASSERT_EQ(As(&admin_, verb::post, "/api/v1/namespaces/default/secrets",
                 std::string(R"({"metadata":{"name":")") + name + R"("}})")
                  .first,
              201);
  }
  auto watched =
      viewer(verb::get, "/api/v1/watch/namespaces/default/secrets/mine?timeoutSeconds=1");
  ASSERT_EQ(watched.first, 200);
  std::string body = bj::serialize(watched.second);
  EXPECT_EQ(body.find("theirs"), std::string::npos) << body;
  auto selected = viewer(verb::get,
                         "/api/v1/namespaces/default/secrets?fieldSelector="
                         "metadata.name%3Dmine");
  EXPECT_EQ(selected.first, 200) << bj::serialize(selected.second);
  ExpectForbidden(viewer(verb::get, "/api/v1/namespaces/default/secrets"), "cannot list");
}

TEST_F(AuthTest, ServiceAccountTokensLiveWithTheirServiceAccount) {
  ASSERT_EQ(As(&admin_, verb::post, "/api/v1/namespaces/default/serviceaccounts",
               R"({"metadata":{"name":"robot"}})")
                .first,
            201);
  auto token = As(&admin_, verb::post, "/api/v1/namespaces/default/serviceaccounts/robot/token",
                  R"({"spec":{"expirationSeconds":3600}})");
  ASSERT_EQ(token.first, 201) << bj::serialize(token.second);
  std::string jwt(token.second.at("status").at("token").as_string());
  auto review = As(&admin_, verb::post, "/apis/authentication.k8s.io/v1/tokenreviews",
                   R"({"spec":{"token":")" + jwt + R"("}})");
  ASSERT_EQ(review.first, 201);
  EXPECT_EQ(review.second.at("status").at("authenticated"), true);
  EXPECT_EQ(review.second.at("status").at("user").at("username"),
            "system:serviceaccount:default:robot");
  ExpectForbidden(As(nullptr, verb::get, "/api/v1/namespaces/default/pods", "", jwt),
                  "system:serviceaccount:default:robot");
  auto whoami = As(nullptr, verb::post, "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                   R"({"metadata":{}})", jwt);
  ASSERT_EQ(whoami.first, 201) << bj::serialize(whoami.second);
  EXPECT_EQ(whoami.second.at("status").at("userInfo").at("groups").at(1),
            "system:serviceaccounts:default");
  EXPECT_EQ(As(nullptr, verb::get, "/api/v1/namespaces/default/pods", "", jwt + "x").first, 401);
  auto short_lived =
      As(&admin_, verb::post, "/api/v1/namespaces/default/serviceaccounts/robot/token",
         R"({"spec":{"expirationSeconds":60}})");
  EXPECT_EQ(short_lived.first, 422);
  ASSERT_EQ(As(&admin_, verb::delete_, "/api/v1/namespaces/default/serviceaccounts/robot").first,
            200);
  EXPECT_EQ(As(nullptr, verb::get, "/api/v1/namespaces/default/pods", "", jwt).first, 401);
}

TEST_F(AuthTest, BootstrapTokensAuthenticateAsBootstrappers) {
  auto b64 = [](const std::string& s) { return Base64Encode(s); };
  std::string secret = R"({"metadata":{"name":"bootstrap-token-abcdef"},
      "type":"bootstrap.kubernetes.io/token","data":{"token-id":")" +
                       b64("abcdef") + R"(","token-secret":")" + b64("0123456789abcdef") +
                       R"(","usage-bootstrap-authentication":")" + b64("true") +
                       R"(","auth-extra-groups":")" +
                       b64("system:bootstrappers:kubeadm:default-node-token") + R"("}})";
  ASSERT_EQ(As(&admin_, verb::post, "/api/v1/namespaces/kube-system/secrets", secret).first, 201);
  auto whoami = As(nullptr, verb::post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", "{}",
                   "abcdef.0123456789abcdef");
  ASSERT_EQ(whoami.first, 201) << bj::serialize(whoami.second);
  const bj::value& info = whoami.second.at("status").at("userInfo");
  EXPECT_EQ(info.at("username"), "system:bootstrap:abcdef");
  EXPECT_EQ(info.at("groups").at(0), "system:bootstrappers");
  EXPECT_EQ(info.at("groups").at(1), "system:bootstrappers:kubeadm:default-node-token");
  EXPECT_EQ(As(nullptr, verb::get, "/version", "", "abcdef.0123456789abcdeX").first, 401);
}

// kubectl's typed commands send protobuf: create secret, create token,
// auth can-i (as the admin, and as a node by impersonation).
TEST_F(AuthTest, KubectlTypedCommandsWork) {
  // `kubectl create token default` needs the service account controller's
  // default ServiceAccount.
  std::unique_ptr<controllers::ControllerManager> controllers;
  StartTestControllers(*server_, controllers);
  ASSERT_NE(controllers, nullptr);
  bool made = false;
  for (int i = 0; i < 500 && !made; ++i) {
    made =
        As(&admin_, verb::get, "/api/v1/namespaces/default/serviceaccounts/default").first == 200;
    if (!made) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(made) << "no default ServiceAccount in default";
  for (const std::string version : {"1.33", "1.27"}) {
    SCOPED_TRACE("kubectl " + version);
    std::string kubectl = std::string(kKubectlDir) + "kubectl." + version;
    BERTH_REQUIRE(PathExists(kubectl), kubectl + " (preinstalled on this machine)");
    auto run = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {kubectl, "--kubeconfig", server_->admin_kubeconfig()});
      Command cmd;
      cmd.argv = std::move(args);
      cmd.timeout = std::chrono::seconds(60);
      return RunCommand(cmd).value();
    };
    std::string name = "s-" + std::string(version == "1.33" ? "new" : "old");
    CommandResult secret = run({"create", "secret", "generic", name, "--from-literal=user=admin"});
    EXPECT_EQ(secret.exit_code, 0) << secret.err;
    CommandResult read = run({"get", "secret", name, "-o", "jsonpath={.data.user}"});
    EXPECT_EQ(Base64Decode(read.out).value_or(""), "admin");
    CommandResult token = run({"create", "token", "default"});
    EXPECT_EQ(token.exit_code, 0) << token.err;
    EXPECT_EQ(std::count(token.out.begin(), token.out.end(), '.'), 2) << token.out;
    EXPECT_EQ(run({"auth", "can-i", "create", "pods"}).out, "yes\n");
    CommandResult node = run({"auth", "can-i", "get", "secrets/" + name, "--as=system:node:n1",
                              "--as-group=system:nodes"});
    EXPECT_NE(node.exit_code, 0);
    EXPECT_TRUE(node.out.starts_with("no")) << node.out << node.err;
    EXPECT_EQ(
        run({"auth", "can-i", "get", "pods", "--as=system:node:n1", "--as-group=system:nodes"}).out,
        "yes\n");
  }
}

}  // namespace
}  // namespace berth::controlplane
