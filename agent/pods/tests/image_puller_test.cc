// Image pull policies and pull secrets against an in-process ImageService.

#include "agent/pods/image_puller.h"

#include <gtest/gtest.h>

#include "agent/pods/pod_spec.h"
#include "agent/pods/tests/fake_cri.h"
#include "agent/pods/tests/pod_json.h"
#include "common/base64.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using testing::Obj;
using testing::PodWithSpec;

TEST(RegistryHostTest, DockerNormalization) {
  EXPECT_EQ(RegistryHost("busybox"), "docker.io");
  EXPECT_EQ(RegistryHost("library/busybox:1.36"), "docker.io");
  EXPECT_EQ(RegistryHost("bitnami/redis"), "docker.io");
  EXPECT_EQ(RegistryHost("registry.example.com/team/app:1"), "registry.example.com");
  EXPECT_EQ(RegistryHost("registry.example.com:5000/app"), "registry.example.com:5000");
  EXPECT_EQ(RegistryHost("localhost/app"), "localhost");
  EXPECT_EQ(RegistryHost("localhost:5000/app@sha256:abc"), "localhost:5000");
  EXPECT_EQ(RegistryHost("docker.io/library/busybox"), "docker.io");
}

TEST(RegistryHostTest, LegacyDockerHubNameIsDockerIo) {
  // distribution/reference: index.docker.io is normalized to docker.io.
  EXPECT_EQ(RegistryHost("index.docker.io/library/busybox"), "docker.io");
}

TEST(DefaultPullPolicyTest, LatestOrUntaggedIsAlways) {
  EXPECT_EQ(DefaultPullPolicy("busybox"), "Always");
  EXPECT_EQ(DefaultPullPolicy("busybox:latest"), "Always");
  EXPECT_EQ(DefaultPullPolicy("busybox:1.36"), "IfNotPresent");
  EXPECT_EQ(DefaultPullPolicy("localhost:5000/app"), "Always");
  EXPECT_EQ(DefaultPullPolicy("localhost:5000/app:v2"), "IfNotPresent");
  EXPECT_EQ(DefaultPullPolicy("busybox@sha256:" + std::string(64, 'a')), "IfNotPresent");
}

TEST(DefaultPullPolicyTest, ExplicitLatestTagWithDigestIsAlways) {
  // Upstream SetDefaults_Container: the tag decides ("latest" -> Always),
  // a digest does not remove an explicit tag.
  EXPECT_EQ(DefaultPullPolicy("busybox:latest@sha256:" + std::string(64, 'a')), "Always");
}

class ImagePullerTest : public ::testing::Test {
 protected:
  ImagePullerTest()
      : puller_(
            cri_.client(), nullptr,
            [this](const std::string& ns, const std::string& name) -> Result<bj::object> {
              secret_lookups_.push_back(ns + "/" + name);
              auto it = secrets_.find(name);
              if (it == secrets_.end()) {
                return Error(Errc::kNotFound, "secret " + name + " not found");
              }
              return it->second;
            },
            true) {}

  Result<std::string> Ensure(const std::string& image, const std::string& policy = "",
                             const std::string& pod_fields = "") {
    pod_ = PodWithSpec("{" + pod_fields + (pod_fields.empty() ? "" : ",") +
                       R"("containers": [{"name": "app", "image": ")" + image + "\"" +
                       (policy.empty() ? "" : R"(, "imagePullPolicy": ")" + policy + "\"") + "}]}");
    return puller_.EnsureImage(pod_, Containers(pod_)[0].as_object());
  }
  static bj::object DockerConfigSecret(const std::string& config_json) {
    bj::object s = Obj(R"({"type": "kubernetes.io/dockerconfigjson",
                           "metadata": {"name": "regcred", "namespace": "shop"}})");
    s["data"] = bj::object{{".dockerconfigjson", Base64Encode(config_json)}};
    return s;
  }

  testing::FakeCri cri_;
  std::map<std::string, bj::object> secrets_;
  std::vector<std::string> secret_lookups_;
  ImagePuller puller_;
  bj::object pod_;
};

TEST_F(ImagePullerTest, IfNotPresentUsesThePresentImage) {
  cri_.images().Add("nginx:1.25", "sha256:present");
  Result<std::string> ref = Ensure("nginx:1.25", "IfNotPresent");
  ASSERT_TRUE(ref.ok()) << ref.error().str();
  EXPECT_EQ(*ref, "sha256:present");
  EXPECT_TRUE(cri_.images().pulls().empty());
  EXPECT_EQ(cri_.images().status_queries(), (std::vector<std::string>{"nginx:1.25"}));
}

TEST_F(ImagePullerTest, IfNotPresentPullsAMissingImage) {
  Result<std::string> ref = Ensure("nginx:1.25", "IfNotPresent");
  ASSERT_TRUE(ref.ok()) << ref.error().str();
  EXPECT_EQ(*ref, "sha256:pulled-1");
  ASSERT_EQ(cri_.images().pulls().size(), 1u);
  EXPECT_EQ(cri_.images().pulls()[0].image().image(), "nginx:1.25");
  EXPECT_FALSE(cri_.images().pulls()[0].has_auth());
}

TEST_F(ImagePullerTest, NeverWithAMissingImageIsAPreconditionFailure) {
  Result<std::string> ref = Ensure("nginx:1.25", "Never");
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code(), Errc::kFailedPrecondition);
  EXPECT_EQ(ref.error().message(),
            "Container image \"nginx:1.25\" is not present with pull policy of Never");
  EXPECT_TRUE(cri_.images().pulls().empty());
  cri_.images().Add("nginx:1.25", "sha256:present");
  ASSERT_TRUE(Ensure("nginx:1.25", "Never").ok());
  EXPECT_EQ(*Ensure("nginx:1.25", "Never"), "sha256:present");
}

TEST_F(ImagePullerTest, AlwaysPullsEvenWhenPresent) {
  cri_.images().Add("nginx:1.25", "sha256:present");
  Result<std::string> ref = Ensure("nginx:1.25", "Always");
  ASSERT_TRUE(ref.ok()) << ref.error().str();
  EXPECT_EQ(*ref, "sha256:pulled-1");
  EXPECT_EQ(cri_.images().pulls().size(), 1u);
}

TEST_F(ImagePullerTest, DefaultPolicyFromTheTag) {
  cri_.images().Add("nginx", "sha256:present");
  cri_.images().Add("nginx:1.25", "sha256:present-125");
  ASSERT_TRUE(Ensure("nginx").ok());  // untagged: Always
  EXPECT_EQ(cri_.images().pulls().size(), 1u);
  EXPECT_EQ(*Ensure("nginx:1.25"), "sha256:present-125");  // IfNotPresent
  EXPECT_EQ(cri_.images().pulls().size(), 1u);
}

TEST_F(ImagePullerTest, PullFailureIsReturned) {
  cri_.images().FailPulls(grpc::StatusCode::NOT_FOUND, "manifest unknown");
  Result<std::string> ref = Ensure("nginx:9", "IfNotPresent");
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code(), Errc::kNotFound);
  EXPECT_NE(ref.error().message().find("manifest unknown"), std::string::npos);
}

TEST_F(ImagePullerTest, EmptyImageIsInvalid) {
  Result<std::string> ref = Ensure("", "Always");
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code(), Errc::kInvalidArgument);
}

TEST_F(ImagePullerTest, PullSecretCredentialsForTheRegistry) {
  secrets_["regcred"] = DockerConfigSecret(R"({"auths": {
      "other.example.org": {"username": "mallory", "password": "nope"},
      "registry.example.com:5000": {"username": "alice", "password": "s3cret",
                                    "auth": "YWxpY2U6czNjcmV0"}}})");
  Result<std::string> ref =
      Ensure("registry.example.com:5000/team/app:1.0", "Always",
             R"("imagePullSecrets": [{"name": "missing"}, {"name": "regcred"}])");
  ASSERT_TRUE(ref.ok()) << ref.error().str();
  EXPECT_EQ(secret_lookups_, (std::vector<std::string>{"shop/missing", "shop/regcred"}));
  std::vector<v1::PullImageRequest> pulls = cri_.images().pulls();
  ASSERT_EQ(pulls.size(), 1u);
  ASSERT_TRUE(pulls[0].has_auth());
  EXPECT_EQ(pulls[0].auth().username(), "alice");
  EXPECT_EQ(pulls[0].auth().password(), "s3cret");
}

TEST_F(ImagePullerTest, DockerHubCredentialsUnderTheIndexUrl) {
  secrets_["regcred"] = DockerConfigSecret(
      R"({"auths": {"https://index.docker.io/v1/": {"username": "bob", "password": "pw"}}})");
  ASSERT_TRUE(
      Ensure("bob/private:2", "Always", R"("imagePullSecrets": [{"name": "regcred"}])").ok());
  ASSERT_EQ(cri_.images().pulls().size(), 1u);
  EXPECT_EQ(cri_.images().pulls()[0].auth().username(), "bob");
}

TEST_F(ImagePullerTest, NoMatchingCredentialsPullsAnonymously) {
  secrets_["regcred"] = DockerConfigSecret(
      R"({"auths": {"other.example.org": {"username": "mallory", "password": "nope"}}})");
  ASSERT_TRUE(
      Ensure("registry.example.com/app:1", "Always", R"("imagePullSecrets": [{"name": "regcred"}])")
          .ok());
  ASSERT_EQ(cri_.images().pulls().size(), 1u);
  EXPECT_FALSE(cri_.images().pulls()[0].has_auth());
}

TEST_F(ImagePullerTest, EveryMatchingCredentialIsTriedInTurn) {
  secrets_["a"] = DockerConfigSecret(
      R"({"auths": {"registry.example.com": {"username": "first", "password": "1"}}})");
  secrets_["b"] = DockerConfigSecret(
      R"({"auths": {"registry.example.com": {"username": "second", "password": "2"}}})");
  cri_.images().FailPulls(grpc::StatusCode::UNAUTHENTICATED, "denied");
  Result<std::string> ref = Ensure("registry.example.com/app:1", "Always",
                                   R"("imagePullSecrets": [{"name": "a"}, {"name": "b"}])");
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code(), Errc::kUnauthenticated);
  std::vector<v1::PullImageRequest> pulls = cri_.images().pulls();
  ASSERT_EQ(pulls.size(), 2u);
  EXPECT_EQ(pulls[0].auth().username(), "first");
  EXPECT_EQ(pulls[1].auth().username(), "second");
}

}  // namespace
}  // namespace berth::agent
