// Payloads of configMap, secret, downwardAPI and projected volumes: items,
// modes, optional sources and keys, and the errors FailedMount shows.

#include "volumes/projection.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "volumes/tests/test_util.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;
using testing::Json;

class ProjectorTest : public ::testing::Test {
 protected:
  ProjectorTest() {
    sources_.config_map = [this](const std::string& ns,
                                 const std::string& name) -> Result<bj::object> {
      auto it = config_maps_.find(ns + "/" + name);
      if (it == config_maps_.end()) return Error(Errc::kNotFound, "not here");
      return it->second;
    };
    sources_.secret = [this](const std::string& ns, const std::string& name) -> Result<bj::object> {
      auto it = secrets_.find(ns + "/" + name);
      if (it == secrets_.end()) return Error(Errc::kNotFound, "not here");
      return it->second;
    };
    sources_.token = [this](const std::string& ns, const std::string& sa,
                            const std::string& audience, int64_t seconds,
                            const std::string& pod_name, const std::string& pod_uid)
        -> Result<std::pair<std::string, std::chrono::system_clock::time_point>> {
      ++token_requests_;
      return std::pair{ns + "/" + sa + "/" + audience + "/" + std::to_string(seconds) + "/" +
                           pod_name + "/" + pod_uid,
                       std::chrono::system_clock::now() + std::chrono::seconds(seconds)};
    };
    sources_.node.memory = 1LL << 30;
    config_maps_["prod/cfg"] = Json(R"({"data": {"a.conf": "A", "b.conf": "B"},
                                        "binaryData": {"bin": ")" +
                                    Base64Encode(std::string("\x00\x01", 2)) + R"("}})");
    secrets_["prod/creds"] = Json(R"({"data": {"user": ")" + Base64Encode("admin") +
                                  R"(", "pass": ")" + Base64Encode("s3cret") + R"("}})");
  }

  Result<Payload> Project(std::string_view kind, std::string_view source_json,
                          std::optional<uid_t> fs_user = {}, std::optional<gid_t> fs_group = {}) {
    Projector projector(sources_, tokens_, pod_, fs_user, fs_group);
    source_ = bj::parse(source_json);
    json::Field f(&source_, std::string(kind));
    if (kind == "configMap") return projector.ConfigMap(f);
    if (kind == "secret") return projector.Secret(f);
    if (kind == "downwardAPI") return projector.DownwardApi(f);
    return projector.Projected(f);
  }

  Sources sources_;
  TokenCache tokens_;
  std::map<std::string, bj::object> config_maps_;
  std::map<std::string, bj::object> secrets_;
  int token_requests_ = 0;
  bj::value source_;
  bj::object pod_ = Json(R"({
    "metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "labels": {"app": "web"}},
    "spec": {"serviceAccountName": "robot", "containers": [
      {"name": "main", "resources": {"limits": {"memory": "256Mi", "cpu": "500m"}}}]}})");
};

TEST_F(ProjectorTest, ConfigMapAllKeysWithDefaultMode) {
  Result<Payload> p = Project("configMap", R"({"name": "cfg", "defaultMode": 420})");
  ASSERT_TRUE(p.ok()) << p.error().str();
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ(p->at("a.conf").data, "A");
  EXPECT_EQ(p->at("bin").data, std::string("\x00\x01", 2));
  EXPECT_EQ(p->at("b.conf").mode, 0644u);
  Result<Payload> narrow = Project("configMap", R"({"name": "cfg", "defaultMode": 256})");
  EXPECT_EQ(narrow->at("a.conf").mode, 0400u);
}

TEST_F(ProjectorTest, ItemsMapKeysToPathsWithTheirModes) {
  Result<Payload> p = Project("configMap", R"({"name": "cfg", "items": [
      {"key": "a.conf", "path": "etc/a", "mode": 384}, {"key": "b.conf", "path": "b"}]})");
  ASSERT_TRUE(p.ok()) << p.error().str();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ(p->at("etc/a").data, "A");
  EXPECT_EQ(p->at("etc/a").mode, 0600u);
  EXPECT_EQ(p->at("b").mode, 0644u);
}

TEST_F(ProjectorTest, MissingObjectsAndKeys) {
  Result<Payload> missing = Project("configMap", R"({"name": "nope"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_EQ(missing.error().str(), "configmap \"nope\" not found");
  Result<Payload> optional = Project("configMap", R"({"name": "nope", "optional": true})");
  ASSERT_TRUE(optional.ok());
  EXPECT_TRUE(optional->empty());

  Result<Payload> no_key =
      Project("configMap", R"({"name": "cfg", "items": [{"key": "zz", "path": "z"}]})");
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().str(), "configmap references non-existent config key: zz");
  Result<Payload> skipped = Project(
      "configMap", R"({"name": "cfg", "optional": true, "items": [{"key": "zz", "path": "z"},
                                                                {"key": "a.conf", "path": "a"}]})");
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->size(), 1u);

  Result<Payload> secret = Project("secret", R"({"secretName": "gone"})");
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.error().str(), "secret \"gone\" not found");
  Result<Payload> secret_key =
      Project("secret", R"({"secretName": "creds", "items": [{"key": "k", "path": "k"}]})");
  ASSERT_FALSE(secret_key.ok());
  EXPECT_EQ(secret_key.error().str(), "references non-existent secret key: k");
}

TEST_F(ProjectorTest, OtherSourceErrorsPassThrough) {
  sources_.config_map = [](const std::string&, const std::string&) -> Result<bj::object> {
    return Error(Errc::kUnavailable, "apiserver unreachable");
  };
  Result<Payload> p = Project("configMap", R"({"name": "cfg", "optional": true})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), Errc::kUnavailable);
}

TEST_F(ProjectorTest, SecretDataIsDecoded) {
  Result<Payload> p = Project("secret", R"({"secretName": "creds", "defaultMode": 256})");
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->at("user").data, "admin");
  EXPECT_EQ(p->at("pass").data, "s3cret");
  EXPECT_EQ(p->at("pass").mode, 0400u);
  secrets_["prod/bad"] = Json(R"({"data": {"k": "!!!"}})");
  EXPECT_FALSE(Project("secret", R"({"secretName": "bad"})").ok());
}

TEST_F(ProjectorTest, InvalidModeIsRefused) {
  Result<Payload> p = Project("configMap", R"({"name": "cfg", "defaultMode": 4095})");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().str().find("configMap.defaultMode"), std::string::npos) << p.error().str();
}

TEST_F(ProjectorTest, DownwardApiItems) {
  Result<Payload> p = Project("downwardAPI", R"({"items": [
      {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
      {"path": "./name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 256},
      {"path": "mem", "resourceFieldRef": {"containerName": "main", "resource": "limits.memory",
                                            "divisor": "1Mi"}},
      {"path": "cpu", "resourceFieldRef": {"containerName": "main", "resource": "limits.cpu",
                                            "divisor": "1m"}}]})");
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->at("labels").data, "app=\"web\"");
  EXPECT_EQ(p->at("name").data, "web");
  EXPECT_EQ(p->at("name").mode, 0400u);
  EXPECT_EQ(p->at("mem").data, "256");
  EXPECT_EQ(p->at("cpu").data, "500");

  Result<Payload> bad = Project("downwardAPI", R"({"items": [
      {"path": "x", "fieldRef": {"fieldPath": "spec.bogus"}},
      {"path": "y", "resourceFieldRef": {"containerName": "ghost", "resource": "limits.cpu"}}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().str(), "[unsupported fieldPath: spec.bogus, container ghost not found]");
}

TEST_F(ProjectorTest, ProjectedCombinesSourcesAndTokens) {
  Result<Payload> p = Project("projected", R"({"defaultMode": 292, "sources": [
      {"configMap": {"name": "cfg", "items": [{"key": "a.conf", "path": "a"}]}},
      {"secret": {"name": "creds"}},
      {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
      {"serviceAccountToken": {"path": "token", "audience": "vault", "expirationSeconds": 7200}}]})");
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->size(), 5u);
  EXPECT_EQ(p->at("a").data, "A");
  EXPECT_EQ(p->at("a").mode, 0444u);
  EXPECT_EQ(p->at("user").data, "admin");
  EXPECT_EQ(p->at("ns").data, "prod");
  EXPECT_EQ(p->at("token").data, "prod/robot/vault/7200/web/u-1");
  EXPECT_EQ(p->at("token").mode, 0444u);
  EXPECT_FALSE(p->at("token").fs_user.has_value());
  EXPECT_EQ(token_requests_, 1);

  // The cached token serves again; with fsGroup it is 0600 (0640 after
  // ownership) and owned by the fsUser.
  Result<Payload> owned = Project(
      "projected", R"({"sources": [{"serviceAccountToken": {"path": "t", "audience": "vault",
                                                             "expirationSeconds": 7200}}]})",
      1000, 2000);
  ASSERT_TRUE(owned.ok()) << owned.error().str();
  EXPECT_EQ(owned->at("t").mode, 0600u);
  EXPECT_EQ(owned->at("t").fs_user, std::optional<uid_t>(1000));
  EXPECT_EQ(token_requests_, 1);
}

TEST_F(ProjectorTest, ProjectedErrorsAggregateAndUnsupportedSourcesSayWhat) {
  Result<Payload> p = Project("projected", R"({"sources": [
      {"configMap": {"name": "nope"}}, {"clusterTrustBundle": {"path": "ca.pem"}}]})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().str(),
            "[configmap \"nope\" not found, projected clusterTrustBundle sources are not "
            "supported by berth]");
  Result<Payload> optional =
      Project("projected", R"({"sources": [{"secret": {"name": "nope", "optional": true}}]})");
  ASSERT_TRUE(optional.ok());
  EXPECT_TRUE(optional->empty());
}

}  // namespace
}  // namespace berth::volumes
