// berth server's assembly: PKI, store, HTTPS, authentication, /version and
// health, driven by kubectl 1.33 and 1.27 as a user would.

#include "controlplane/server/apiserver.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/server/tests/tls_client.h"

namespace berth::controlplane {
namespace {

constexpr char kKubectlDir[] = "/usr/lib/google-cloud-sdk/bin/";

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions o;
    o.data_dir = dir_.path();
    o.bind_address = "127.0.0.1";
    o.secure_port = 0;
    auto server = ApiServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.error().str();
    server_ = std::move(*server);
  }

  Result<CommandResult> Kubectl(const std::string& version, std::vector<std::string> args) {
    std::string kubectl = std::string(kKubectlDir) + "kubectl." + version;
    if (!PathExists(kubectl)) return Error(Errc::kNotFound, kubectl + " is missing");
    args.insert(args.begin(), {kubectl, "--kubeconfig", server_->admin_kubeconfig()});
    Command cmd;
    cmd.argv = std::move(args);
    cmd.timeout = std::chrono::seconds(60);
    return RunCommand(cmd);
  }

  berth::testing::TempDir dir_{"berth-apiserver"};
  std::unique_ptr<ApiServer> server_;
};

TEST_F(ApiServerTest, KubectlVersionReachesTheServer) {
  for (const char* version : {"1.33", "1.27"}) {
    Result<CommandResult> out = Kubectl(version, {"version", "-o", "json"});
    ASSERT_TRUE(out.ok()) << out.error().str();
    ASSERT_EQ(out->exit_code, 0) << version << ": " << out->err;
    boost::json::value doc = boost::json::parse(out->out);
    const boost::json::object& server = doc.at("serverVersion").as_object();
    EXPECT_EQ(server.at("major").as_string(), "1") << version;
    EXPECT_EQ(server.at("minor").as_string(), "33") << version;
    EXPECT_TRUE(server.at("gitVersion").as_string().starts_with("v1.33.0")) << version;
  }
  Result<CommandResult> health = Kubectl("1.33", {"get", "--raw", "/readyz"});
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->out, "ok") << health->err;
}

TEST_F(ApiServerTest, NoCredentialsIs401WithAStatusBody) {
  std::string ca = ReadFile(dir_.path() + "/pki/ca.crt").value();
  http::TlsClient anonymous(server_->port(), ca, nullptr);
  auto res = anonymous.Do(http::bhttp::verb::get, "/api/v1/namespaces");
  EXPECT_EQ(res.result_int(), 401);
  boost::json::value status = boost::json::parse(res.body());
  EXPECT_EQ(status.at("kind").as_string(), "Status");
  EXPECT_EQ(status.at("reason").as_string(), "Unauthorized");
  EXPECT_EQ(status.at("code").as_int64(), 401);
}

TEST_F(ApiServerTest, UnknownPathsAre404Status) {
  Result<CommandResult> out = Kubectl("1.33", {"get", "--raw", "/no/such/thing"});
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->exit_code, 0);
  EXPECT_NE(out->err.find("NotFound"), std::string::npos) << out->err;
}

TEST(ApiServerTokenTest, AStaticTokenAuthenticatesAndAnUnknownOneIs401) {
  berth::testing::TempDir dir("berth-apiserver");
  ASSERT_TRUE(WriteFile(dir.path() + "/tokens.csv", "s3cret,alice,uid-1,\"devs\"\n").ok());
  ApiServerOptions o;
  o.data_dir = dir.path();
  o.bind_address = "127.0.0.1";
  o.secure_port = 0;
  o.token_auth_file = dir.path() + "/tokens.csv";
  auto server = ApiServer::Start(o);
  ASSERT_TRUE(server.ok()) << server.error().str();
  std::string kubectl = std::string(kKubectlDir) + "kubectl.1.33";
  BERTH_REQUIRE(PathExists(kubectl), kubectl + " (preinstalled on this machine)");
  auto run = [&](const std::string& token) {
    Command cmd;
    cmd.timeout = std::chrono::seconds(60);
    cmd.argv = {kubectl,
                "--server",
                "https://127.0.0.1:" + std::to_string((*server)->port()),
                "--certificate-authority",
                dir.path() + "/pki/ca.crt",
                "--token",
                token,
                "get",
                "--raw",
                "/version"};
    return RunCommand(cmd);
  };
  Result<CommandResult> good = run("s3cret");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->exit_code, 0) << good->err;
  EXPECT_NE(good->out.find("\"major\":\"1\""), std::string::npos) << good->out;
  Result<CommandResult> bad = run("wrong");
  ASSERT_TRUE(bad.ok());
  EXPECT_NE(bad->exit_code, 0);
  EXPECT_NE(bad->err.find("Unauthorized"), std::string::npos) << bad->err;
}

TEST(ApiServerFlagsTest, BadFlagsAreNamed) {
  Result<std::string> ip = FirstServiceIp("10.96.0.0/12");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(*ip, "10.96.0.1");
  EXPECT_EQ(FirstServiceIp("fd00:10:96::/108").value_or(""), "fd00:10:96::1");
  for (const char* bad : {"10.96.0.0", "10.96.0.0/40", "banana/12"}) {
    Result<std::string> r = FirstServiceIp(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().str().find("--service-cluster-ip-range"), std::string::npos);
  }
  berth::testing::TempDir dir("berth-apiserver");
  ApiServerOptions o;
  o.data_dir = dir.path();
  o.bind_address = "127.0.0.1";
  o.secure_port = 0;
  o.service_node_port_range = "32767-30000";
  auto server = ApiServer::Start(o);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().str().find("--service-node-port-range"), std::string::npos);
  o.service_node_port_range = "30000-32767";
  o.datastore_endpoint = "mysql://x";
  server = ApiServer::Start(o);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().str().find("--datastore-endpoint"), std::string::npos);
}

}  // namespace
}  // namespace berth::controlplane
