// berth server's assembly: PKI, store, HTTPS, authentication, /version and
// health, driven by kubectl 1.33 and 1.27 as a user would.

#include "controlplane/server/apiserver.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/server/tests/test_server.h"
#include "controlplane/server/tests/tls_client.h"

namespace berth::controlplane {
namespace {

constexpr char kKubectlDir[] = "/usr/lib/google-cloud-sdk/bin/";

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartTestServer(TestServerOptions(dir_.path()), server_);
    ASSERT_NE(server_, nullptr);
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

// As kube-apiserver: the kubernetes Service, its Endpoints and its
// EndpointSlice (what kube-proxy and berth proxy read) name this server.
TEST_F(ApiServerTest, TheKubernetesServiceHasAnEndpointSlice) {
  Result<CommandResult> out = Kubectl(
      "1.33",
      {"get", "--raw", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes"});
  ASSERT_TRUE(out.ok()) << out.error().str();
  ASSERT_EQ(out->exit_code, 0) << out->err;
  boost::json::object slice = boost::json::parse(out->out).as_object();
  EXPECT_EQ(slice.at("metadata").at("labels").at("kubernetes.io/service-name"), "kubernetes");
  EXPECT_EQ(slice.at("addressType"), "IPv4");
  const boost::json::object& endpoint = slice.at("endpoints").at(0).as_object();
  EXPECT_EQ(endpoint.at("conditions").at("ready"), true);
  const boost::json::object& port = slice.at("ports").at(0).as_object();
  EXPECT_EQ(port.at("name"), "https");
  EXPECT_EQ(port.at("port").as_int64(), server_->port());
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

constexpr char kDemo[] = R"(apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: demo
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:1.36
        env:
        - {name: A, value: "1"}
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
)";

// The kubectl workflows of issue 5's first acceptance line that need no
// typed (protobuf) client, with both kubectl versions.
TEST_F(ApiServerTest, KubectlAppliesPatchesLabelsScalesEditsWatchesAndDeletes) {
  // `kubectl delete ns` waits for the namespace controller to empty it.
  std::unique_ptr<controllers::ControllerManager> controllers;
  StartTestControllers(*server_, controllers);
  ASSERT_NE(controllers, nullptr);
  for (const std::string version : {"1.33", "1.27"}) {
    SCOPED_TRACE("kubectl " + version);
    auto run = [&](std::vector<std::string> args) {
      Result<CommandResult> out = Kubectl(version, std::move(args));
      EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().str());
      if (!out.ok()) return CommandResult{};
      return *out;
    };
    auto ok = [&](std::vector<std::string> args) {
      std::string joined;
      for (const std::string& a : args)
        joined += a + " ";
      CommandResult r = run(std::move(args));
      EXPECT_EQ(r.exit_code, 0) << joined << "\n" << r.err;
      return r.out;
    };
    std::string manifest = dir_.path() + "/demo.yaml";
    ASSERT_TRUE(WriteFile(manifest, kDemo).ok());
    std::string applied = ok({"apply", "-f", manifest});
    EXPECT_NE(applied.find("deployment.apps/web created"), std::string::npos) << applied;
    std::string table = ok({"-n", "demo", "get", "deploy,svc,cm"});
    EXPECT_NE(table.find("READY   UP-TO-DATE   AVAILABLE"), std::string::npos) << table;
    EXPECT_NE(table.find("ClusterIP"), std::string::npos) << table;

    // Re-apply with changes: a strategic merge patch of the template.
    std::string changed = kDemo;
    changed.replace(changed.find("replicas: 2"), 11, "replicas: 3");
    changed.replace(changed.find("value: \"1\""), 10, "value: \"2\"");
    ASSERT_TRUE(WriteFile(manifest, changed).ok());
    EXPECT_NE(ok({"apply", "-f", manifest}).find("deployment.apps/web configured"),
              std::string::npos);
    EXPECT_EQ(ok({"-n", "demo", "get", "deploy", "web", "-o",
                  "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].env[0].value} "
                  "{.metadata.generation}"}),
              "3 2 2");

    ok({"-n", "demo", "patch", "deploy", "web", "--type=json", "-p",
        R"([{"op":"replace","path":"/spec/replicas","value":4}])"});
    ok({"-n", "demo", "patch", "deploy", "web", "--type=merge", "-p",
        R"({"metadata":{"labels":{"tier":"fe"}}})"});
    ok({"-n", "demo", "patch", "deploy", "web", "-p",
        R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox:1.37"}]}}}})"});
    EXPECT_EQ(ok({"-n", "demo", "get", "deploy", "web", "-o",
                  "jsonpath={.spec.replicas} {.metadata.labels.tier} "
                  "{.spec.template.spec.containers[0].image} "
                  "{.spec.template.spec.containers[0].env[0].name}"}),
              "4 fe busybox:1.37 A");
    ok({"-n", "demo", "label", "deploy", "web", "env=prod"});
    ok({"-n", "demo", "annotate", "deploy", "web", "note=hi"});
    ok({"-n", "demo", "scale", "deploy", "web", "--replicas=1"});
    ok({"-n", "demo", "wait", "--for=jsonpath={.spec.replicas}=1", "deploy/web", "--timeout=10s"});
    std::string selected = ok({"-n", "demo", "get", "deploy", "-l", "env=prod", "-o", "name"});
    EXPECT_EQ(selected, "deployment.apps/web\n");
    EXPECT_EQ(ok({"-n", "demo", "get", "cm", "--field-selector", "metadata.name=web-config", "-o",
                  "name"}),
              "configmap/web-config\n");
    std::string described = ok({"-n", "demo", "describe", "deploy", "web"});
    EXPECT_NE(described.find("busybox:1.37"), std::string::npos) << described;

    // edit through KUBE_EDITOR (a sed that rewrites the file in place).
    Command edit;
    edit.argv = {std::string(kKubectlDir) + "kubectl." + version,
                 "--kubeconfig",
                 server_->admin_kubeconfig(),
                 "-n",
                 "demo",
                 "edit",
                 "cm",
                 "web-config"};
    edit.env = {"KUBE_EDITOR=sed -i s/greeting:\\ hello/greeting:\\ edited/", "PATH=/usr/bin:/bin",
                "HOME=" + dir_.path()};
    edit.timeout = std::chrono::seconds(60);
    Result<CommandResult> edited = RunCommand(edit);
    ASSERT_TRUE(edited.ok());
    EXPECT_EQ(edited->exit_code, 0) << edited->err;
    EXPECT_EQ(ok({"-n", "demo", "get", "cm", "web-config", "-o", "jsonpath={.data.greeting}"}),
              "edited");

    // get -w streams the changes made while it runs.
    Command watch;
    watch.argv = {std::string(kKubectlDir) + "kubectl." + version,
                  "--kubeconfig",
                  server_->admin_kubeconfig(),
                  "-n",
                  "demo",
                  "get",
                  "cm",
                  "-w",
                  "--request-timeout=4s"};
    watch.timeout = std::chrono::seconds(30);
    std::thread changer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      run({"-n", "demo", "label", "cm", "web-config", "seen=yes"});
    });
    Result<CommandResult> watched = RunCommand(watch);
    changer.join();
    ASSERT_TRUE(watched.ok());
    // The listing, then the change.
    size_t first = watched->out.find("web-config");
    ASSERT_NE(first, std::string::npos) << watched->out;
    EXPECT_NE(watched->out.find("web-config", first + 1), std::string::npos) << watched->out;

    // A node whose status a kubelet reported: wait --for=condition, the
    // nodes table, -o json and -o yaml.
    std::string node = dir_.path() + "/node.yaml";
    ASSERT_TRUE(WriteFile(node, "apiVersion: v1\nkind: Node\nmetadata:\n  name: n-" + version +
                                    "\n  labels: {node-role.kubernetes.io/worker: \"\"}\n")
                    .ok());
    ok({"apply", "-f", node});
    ok({"patch", "node", "n-" + version, "--subresource=status", "--type=merge", "-p",
        R"({"status":{"conditions":[{"type":"Ready","status":"True"}],)"
        R"("nodeInfo":{"kubeletVersion":"v1.33.0"}}})"});
    ok({"wait", "--for=condition=Ready", "node/n-" + version, "--timeout=10s"});
    std::string nodes = ok({"get", "node", "n-" + version});
    EXPECT_NE(nodes.find("Ready    worker"), std::string::npos) << nodes;
    EXPECT_NE(nodes.find("v1.33.0"), std::string::npos) << nodes;
    std::string as_json = ok({"get", "node", "n-" + version, "-o", "json"});
    EXPECT_EQ(boost::json::parse(as_json).at("status").at("conditions").at(0).at("type"), "Ready");
    EXPECT_NE(ok({"get", "node", "n-" + version, "-o", "yaml"}).find("kind: Node"),
              std::string::npos);
    ok({"delete", "node", "n-" + version});
    std::string resources = ok({"api-resources"});
    EXPECT_NE(resources.find("deployments"), std::string::npos) << resources;
    EXPECT_NE(resources.find("deploy"), std::string::npos) << resources;
    ok({"-n", "demo", "delete", "deploy/web", "svc/web", "cm/web-config"});
    EXPECT_EQ(ok({"-n", "demo", "get", "all", "-o", "name"}), "");
    EXPECT_NE(ok({"delete", "ns", "demo"}).find("namespace \"demo\" deleted"), std::string::npos);
    CommandResult gone = run({"get", "ns", "demo"});
    EXPECT_NE(gone.exit_code, 0);
    EXPECT_NE(gone.err.find("NotFound"), std::string::npos) << gone.err;
  }
}

TEST(ApiServerTokenTest, AStaticTokenAuthenticatesAndAnUnknownOneIs401) {
  berth::testing::TempDir dir("berth-apiserver");
  ASSERT_TRUE(WriteFile(dir.path() + "/tokens.csv", "s3cret,alice,uid-1,\"devs\"\n").ok());
  ApiServerOptions o = TestServerOptions(dir.path());
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
  ApiServerOptions o = TestServerOptions(dir.path());
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
