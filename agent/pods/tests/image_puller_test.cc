// Image pull policies and pull secrets against an in-process ImageService.

#include "agent/pods/image_puller.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <thread>

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

// Pulls of a pod that starts terminating are abandoned: upstream cancels the
// pod worker's context, which reaches the CRI PullImage call.
class PullCancellationTest : public ImagePullerTest {
 protected:
  static bj::object PodPulling(const std::string& image) {
    return PodWithSpec(R"({"containers": [{"name": "app", "image": ")" + image +
                       R"(", "imagePullPolicy": "Always"}]})");
  }
  std::future<Result<std::string>> PullAsync(ImagePuller& puller, const bj::object& pod,
                                             PullCancellation* cancel) {
    return std::async(std::launch::async, [&puller, &pod, cancel] {
      return puller.EnsureImage(pod, Containers(pod)[0].as_object(), cancel);
    });
  }
  static bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 400; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done();
  }
  // Lets blocked pulls finish however a test ends, before its futures wait.
  struct Release {
    testing::FakeImages& images;
    ~Release() { images.ReleasePulls(); }
  };
};

TEST_F(PullCancellationTest, CancelAbortsThePullInFlight) {
  cri_.images().BlockPulls();
  PullCancellation cancel;
  bj::object pod = PodPulling("registry.example.com/slow:1");
  std::future<Result<std::string>> pulling = PullAsync(puller_, pod, &cancel);
  Release release{cri_.images()};
  ASSERT_TRUE(WaitFor([&] { return cri_.images().pulls_in_flight() == 1; }));
  EXPECT_EQ(pulling.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  cancel.Cancel();
  // The caller is free at once, not when the runtime is done.
  ASSERT_EQ(pulling.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  Result<std::string> ref = pulling.get();
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code(), Errc::kCancelled) << ref.error().str();
  // The runtime saw its call cancelled (berth's runtime then stops pulling).
  EXPECT_TRUE(WaitFor([&] { return cri_.images().cancelled_pulls() == 1; }));
  EXPECT_EQ(cri_.images().pulls().size(), 1u);
}

TEST_F(PullCancellationTest, CancelWhileWaitingForTheSerializedTurn) {
  cri_.images().BlockPulls();
  PullCancellation first_cancel, second_cancel;
  bj::object first_pod = PodPulling("registry.example.com/first:1");
  bj::object second_pod = PodPulling("registry.example.com/second:1");
  std::future<Result<std::string>> first = PullAsync(puller_, first_pod, &first_cancel);
  Release release{cri_.images()};
  ASSERT_TRUE(WaitFor([&] { return cri_.images().pulls_in_flight() == 1; }));
  std::future<Result<std::string>> second = PullAsync(puller_, second_pod, &second_cancel);
  // serializeImagePulls: the second waits while the first pulls.
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_EQ(cri_.images().pulls().size(), 1u);
  second_cancel.Cancel();
  ASSERT_EQ(second.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  Result<std::string> second_ref = second.get();
  ASSERT_FALSE(second_ref.ok());
  EXPECT_EQ(second_ref.error().code(), Errc::kCancelled) << second_ref.error().str();
  // It never reached the runtime; the first pull goes on undisturbed.
  EXPECT_EQ(cri_.images().pulls().size(), 1u);
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  cri_.images().ReleasePulls();
  ASSERT_EQ(first.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  Result<std::string> first_ref = first.get();
  ASSERT_TRUE(first_ref.ok()) << first_ref.error().str();
  EXPECT_EQ(cri_.images().cancelled_pulls(), 0);
  // The turn is free again.
  ASSERT_TRUE(Ensure("registry.example.com/third:1", "Always").ok());
  EXPECT_EQ(cri_.images().pulls().size(), 2u);
}

TEST_F(PullCancellationTest, ACancelledPodPullsNothing) {
  PullCancellation cancel;
  cancel.Cancel();
  ImagePuller parallel(cri_.client(), nullptr, nullptr, false);
  for (ImagePuller* puller : {&puller_, &parallel}) {
    bj::object pod = PodPulling("registry.example.com/app:1");
    Result<std::string> ref = puller->EnsureImage(pod, Containers(pod)[0].as_object(), &cancel);
    ASSERT_FALSE(ref.ok());
    EXPECT_EQ(ref.error().code(), Errc::kCancelled);
  }
  EXPECT_TRUE(cri_.images().pulls().empty());
}

TEST_F(PullCancellationTest, HooksRunOnceAndNotAfterTheyAreGone) {
  PullCancellation cancel;
  int kept = 0, dropped = 0;
  {
    PullCancellation::Hook gone = cancel.OnCancel([&] { ++dropped; });
  }
  PullCancellation::Hook hook = cancel.OnCancel([&] { ++kept; });
  cancel.Cancel();
  cancel.Cancel();
  EXPECT_EQ(kept, 1);
  EXPECT_EQ(dropped, 0);
  EXPECT_TRUE(cancel.cancelled());
  // Registered after the fact: runs at once.
  int late = 0;
  PullCancellation::Hook after = cancel.OnCancel([&] { ++late; });
  EXPECT_EQ(late, 1);
}

}  // namespace
}  // namespace berth::agent
