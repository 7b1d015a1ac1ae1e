// MakeEnvironment: sources, precedence, expansion, optional references and
// upstream's error messages.

#include "agent/container/environment.h"

#include <gtest/gtest.h>

#include <map>

#include "common/base64.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;

class EnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pod_ = bj::parse(R"js({
      "metadata": {"name": "web-0", "namespace": "app", "uid": "u-1",
                   "labels": {"tier": "front"}},
      "spec": {"nodeName": "node-a", "serviceAccountName": "sa",
               "containers": [
                 {"name": "main", "resources": {"limits": {"memory": "64Mi"}}},
                 {"name": "side", "resources": {"limits": {"cpu": "250m"}}}]}
    })js")
               .as_object();
    config_maps_["app/cfg"] =
        bj::parse(R"js({"data": {"B": "from-cfg", "A": "a", "x": "y"}})js").as_object();
    secrets_["app/creds"] =
        bj::object{{"data", {{"user", Base64Encode("admin")}, {"pass", Base64Encode("s3cret")}}}};
    ctx_.pod = &pod_;
    ctx_.node_name = "node-a";
    ctx_.host_ips = {"192.168.1.10", "fd00::10"};
    ctx_.pod_ips = {"10.244.0.7", "fd01::7"};
    ctx_.node = {.cpu_milli = 4000, .memory = 8LL << 30, .ephemeral_storage = 0};
    ctx_.config_map = [this](const std::string& ns, const std::string& name) {
      return Lookup(config_maps_, ns, name, "configmaps");
    };
    ctx_.secret = [this](const std::string& ns, const std::string& name) {
      return Lookup(secrets_, ns, name, "secrets");
    };
    ctx_.services = {bj::parse(R"js({"metadata": {"namespace": "default", "name": "kubernetes"},
                                   "spec": {"clusterIP": "10.96.0.1",
                                            "ports": [{"name": "https", "port": 443}]}})js")
                         .as_object()};
  }

  static Result<bj::object> Lookup(const std::map<std::string, bj::object>& from,
                                   const std::string& ns, const std::string& name,
                                   const std::string& what) {
    auto it = from.find(ns + "/" + name);
    if (it == from.end()) return Error(Errc::kNotFound, what + " " + name + " is not there");
    return it->second;
  }

  Result<std::vector<EnvVar>> Make(const std::string& container_json) {
    container_ = bj::parse(container_json).as_object();
    return MakeEnvironment(container_, ctx_);
  }

  static std::map<std::string, std::string> AsMap(const std::vector<EnvVar>& env) {
    std::map<std::string, std::string> out;
    for (const EnvVar& e : env)
      out[e.name] = e.value;
    return out;
  }

  bj::object pod_, container_;
  std::map<std::string, bj::object> config_maps_, secrets_;
  EnvContext ctx_;
};

TEST_F(EnvironmentTest, EnvFromThenEnvInOrderWithServiceVarsLast) {
  auto env = Make(R"js({"name": "main",
    "envFrom": [{"configMapRef": {"name": "cfg"}},
                {"secretRef": {"name": "creds"}, "prefix": "DB_"}],
    "env": [{"name": "B", "value": "override"}, {"name": "C", "value": "$(A)-$(DB_user)"}]})js");
  ASSERT_TRUE(env.ok()) << env.error().str();
  std::vector<EnvVar> want = {
      {"A", "a"},
      {"B", "override"},
      {"x", "y"},
      {"DB_pass", "s3cret"},
      {"DB_user", "admin"},
      {"C", "a-admin"},
      {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
      {"KUBERNETES_SERVICE_PORT", "443"},
      {"KUBERNETES_SERVICE_PORT_HTTPS", "443"},
      {"KUBERNETES_PORT", "tcp://10.96.0.1:443"},
      {"KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"},
      {"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
      {"KUBERNETES_PORT_443_TCP_PORT", "443"},
      {"KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"},
  };
  EXPECT_EQ(*env, want);
}

TEST_F(EnvironmentTest, ExpansionSeesOnlyEarlierVariablesAndServiceVars) {
  auto env = Make(R"js({"name": "main", "env": [
    {"name": "FIRST", "value": "$(SECOND)|$(KUBERNETES_SERVICE_HOST)|$$(FIRST)"},
    {"name": "SECOND", "value": "two"},
    {"name": "THIRD", "value": "$(SECOND)$(MISSING)"},
    {"name": "KUBERNETES_SERVICE_HOST", "value": "mine"},
    {"name": "EMPTY"}]})js");
  ASSERT_TRUE(env.ok()) << env.error().str();
  auto m = AsMap(*env);
  EXPECT_EQ(m["FIRST"], "$(SECOND)|10.96.0.1|$(FIRST)");
  EXPECT_EQ(m["THIRD"], "two$(MISSING)");
  // A variable of the container's own replaces the service variable.
  EXPECT_EQ(m["KUBERNETES_SERVICE_HOST"], "mine");
  ASSERT_TRUE(m.count("EMPTY"));
  EXPECT_EQ(m["EMPTY"], "");
  EXPECT_EQ((*env)[3].name, "KUBERNETES_SERVICE_HOST");
}

TEST_F(EnvironmentTest, ValueFromKeyRefs) {
  auto env = Make(R"js({"name": "main", "env": [
    {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "B"}}},
    {"name": "SEC", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pass"}}},
    {"name": "OPT_MISSING_KEY", "valueFrom": {"configMapKeyRef":
        {"name": "cfg", "key": "nope", "optional": true}}},
    {"name": "OPT_MISSING_OBJ", "valueFrom": {"secretKeyRef":
        {"name": "gone", "key": "k", "optional": true}}}]})js");
  ASSERT_TRUE(env.ok()) << env.error().str();
  auto m = AsMap(*env);
  EXPECT_EQ(m["CM"], "from-cfg");
  EXPECT_EQ(m["SEC"], "s3cret");
  EXPECT_FALSE(m.count("OPT_MISSING_KEY"));
  EXPECT_FALSE(m.count("OPT_MISSING_OBJ"));
}

TEST_F(EnvironmentTest, UpstreamErrorMessages) {
  auto msg = [this](const std::string& json) {
    auto env = Make(json);
    return env.ok() ? std::string("ok") : env.error().message();
  };
  EXPECT_EQ(msg(R"js({"env": [{"name": "X", "valueFrom": {"configMapKeyRef":
                     {"name": "x", "key": "k"}}}]})js"),
            "configmap \"x\" not found");
  EXPECT_EQ(msg(R"js({"env": [{"name": "X", "valueFrom": {"configMapKeyRef":
                     {"name": "cfg", "key": "k"}}}]})js"),
            "couldn't find key k in ConfigMap app/cfg");
  EXPECT_EQ(msg(R"js({"env": [{"name": "X", "valueFrom": {"secretKeyRef":
                     {"name": "s", "key": "k"}}}]})js"),
            "secret \"s\" not found");
  EXPECT_EQ(msg(R"js({"env": [{"name": "X", "valueFrom": {"secretKeyRef":
                     {"name": "creds", "key": "k"}}}]})js"),
            "couldn't find key k in Secret app/creds");
  EXPECT_EQ(msg(R"js({"envFrom": [{"configMapRef": {"name": "absent"}}]})js"),
            "configmap \"absent\" not found");
  EXPECT_EQ(msg(R"js({"envFrom": [{"configMapRef": {"name": "absent", "optional": true}}]})js"),
            "ok");
}

TEST_F(EnvironmentTest, OtherFetchErrorsPassThrough) {
  ctx_.secret = [](const std::string&, const std::string&) -> Result<bj::object> {
    return Error(Errc::kUnavailable, "apiserver down");
  };
  auto env = Make(R"js({"envFrom": [{"secretRef": {"name": "creds", "optional": true}}]})js");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().code(), Errc::kUnavailable);
}

TEST_F(EnvironmentTest, FieldRefs) {
  auto env = Make(R"js({"name": "main", "env": [
    {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    {"name": "NS", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
    {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    {"name": "POD_IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}},
    {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
    {"name": "HOST_IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIPs"}}},
    {"name": "URL", "value": "http://$(POD_IP):80"}]})js");
  ASSERT_TRUE(env.ok()) << env.error().str();
  auto m = AsMap(*env);
  EXPECT_EQ(m["NAME"], "web-0");
  EXPECT_EQ(m["NS"], "app");
  EXPECT_EQ(m["TIER"], "front");
  EXPECT_EQ(m["NODE"], "node-a");
  EXPECT_EQ(m["SA"], "sa");
  EXPECT_EQ(m["POD_IP"], "10.244.0.7");
  EXPECT_EQ(m["POD_IPS"], "10.244.0.7,fd01::7");
  EXPECT_EQ(m["HOST_IP"], "192.168.1.10");
  EXPECT_EQ(m["HOST_IPS"], "192.168.1.10,fd00::10");
  EXPECT_EQ(m["URL"], "http://10.244.0.7:80");

  auto bad = Make(R"js({"env": [{"name": "X", "valueFrom": {"fieldRef":
                      {"apiVersion": "v2", "fieldPath": "metadata.name"}}}]})js");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "unsupported pod version: v2");
}

TEST_F(EnvironmentTest, ResourceFieldRefs) {
  auto env = Make(R"js({"name": "main", "resources": {"limits": {"memory": "64Mi"}}, "env": [
    {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
    {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
    {"name": "SIDE_CPU", "valueFrom": {"resourceFieldRef":
        {"containerName": "side", "resource": "limits.cpu", "divisor": "1m"}}}]})js");
  ASSERT_TRUE(env.ok()) << env.error().str();
  auto m = AsMap(*env);
  EXPECT_EQ(m["MEM"], "64");
  EXPECT_EQ(m["CPU"], "4");  // unset limit: the node's allocatable
  EXPECT_EQ(m["SIDE_CPU"], "250");
  auto bad = Make(R"js({"env": [{"name": "X", "valueFrom": {"resourceFieldRef":
                      {"containerName": "nope", "resource": "limits.cpu"}}}]})js");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "container nope not found");
}

TEST_F(EnvironmentTest, ServiceLinksFollowEnableServiceLinks) {
  ctx_.services.push_back(bj::parse(R"js({"metadata": {"namespace": "app", "name": "db"},
                    "spec": {"clusterIP": "10.96.0.9", "ports": [{"port": 5432}]}})js")
                              .as_object());
  auto with = Make(R"js({"name": "main"})js");
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(AsMap(*with)["DB_SERVICE_HOST"], "10.96.0.9");
  pod_["spec"].as_object()["enableServiceLinks"] = false;
  auto without = Make(R"js({"name": "main"})js");
  ASSERT_TRUE(without.ok());
  auto m = AsMap(*without);
  EXPECT_FALSE(m.count("DB_SERVICE_HOST"));
  EXPECT_EQ(m["KUBERNETES_SERVICE_HOST"], "10.96.0.1");
}

}  // namespace
}  // namespace berth::agent
