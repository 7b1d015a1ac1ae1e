// Pod reads: QoS class (upstream ComputePodQOS), grace period, restart
// policy, identity and event references.

#include "agent/pods/pod_spec.h"

#include <gtest/gtest.h>

#include "agent/pods/tests/pod_json.h"

namespace berth::agent {
namespace {

using testing::Obj;
using testing::PodWithSpec;

TEST(QosClassTest, NoRequestsOrLimitsIsBestEffort) {
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [{"name": "a"}, {"name": "b"}]})")),
            "BestEffort");
  // Zero quantities and other resources do not count.
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [{"name": "a", "resources": {
      "requests": {"cpu": "0", "memory": "0", "ephemeral-storage": "1Gi"}}}]})")),
            "BestEffort");
}

TEST(QosClassTest, LimitsOnlyForCpuAndMemoryIsGuaranteed) {
  // A request defaults to its limit.
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [
      {"name": "a", "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}},
      {"name": "b", "resources": {"limits": {"cpu": "1", "memory": "1Gi"},
                                  "requests": {"cpu": "1000m", "memory": "1024Mi"}}}]})")),
            "Guaranteed");
}

TEST(QosClassTest, RequestsBelowLimitsAreBurstable) {
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [{"name": "a", "resources": {
      "limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}}]})")),
            "Burstable");
}

TEST(QosClassTest, RequestWithoutLimitIsBurstable) {
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [{"name": "a", "resources": {
      "requests": {"memory": "64Mi"}}}]})")),
            "Burstable");
}

TEST(QosClassTest, OnlyCpuLimitIsBurstable) {
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [{"name": "a", "resources": {
      "limits": {"cpu": "1"}}}]})")),
            "Burstable");
}

TEST(QosClassTest, OneContainerWithoutLimitsMakesItBurstable) {
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [
      {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
      {"name": "b"}]})")),
            "Burstable");
}

TEST(QosClassTest, InitContainersCount) {
  // Regular containers Guaranteed, an init container without limits.
  EXPECT_EQ(QosClass(PodWithSpec(R"({
      "initContainers": [{"name": "init"}],
      "containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]})")),
            "Burstable");
  // Only an init container asks for something.
  EXPECT_EQ(QosClass(PodWithSpec(R"({
      "initContainers": [{"name": "init", "resources": {"requests": {"cpu": "100m"}}}],
      "containers": [{"name": "a"}]})")),
            "Burstable");
  EXPECT_EQ(QosClass(PodWithSpec(R"({
      "initContainers": [{"name": "init",
                          "resources": {"limits": {"cpu": "2", "memory": "2Gi"}}}],
      "containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]})")),
            "Guaranteed");
}

TEST(QosClassTest, ZeroMemoryLimitIsNotAGuaranteedLimit) {
  // Upstream counts only limits > 0 towards "has cpu and memory limits";
  // API defaulting copies the zero limit into the request.
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [{"name": "a", "resources": {
      "limits": {"cpu": "1", "memory": "0"}, "requests": {"cpu": "1", "memory": "0"}}}]})")),
            "Burstable");
}

TEST(PodSpecTest, RestartPolicyDefaultsToAlways) {
  EXPECT_EQ(RestartPolicy(PodWithSpec(R"({"containers": []})")), "Always");
  EXPECT_EQ(RestartPolicy(PodWithSpec(R"({"restartPolicy": "Never"})")), "Never");
  EXPECT_EQ(RestartPolicy(PodWithSpec(R"({"restartPolicy": "OnFailure"})")), "OnFailure");
}

TEST(PodSpecTest, GracePeriodPrefersDeletionGracePeriod) {
  bj::object pod = PodWithSpec(R"({"terminationGracePeriodSeconds": 45})");
  EXPECT_EQ(GracePeriodSeconds(pod), 45);
  pod["metadata"].as_object()["deletionGracePeriodSeconds"] = 5;
  EXPECT_EQ(GracePeriodSeconds(pod), 5);
  pod["metadata"].as_object()["deletionGracePeriodSeconds"] = 0;
  EXPECT_EQ(GracePeriodSeconds(pod), 0);
  EXPECT_EQ(GracePeriodSeconds(PodWithSpec("{}")), 30);
}

TEST(PodSpecTest, IdentityAndContainers) {
  bj::object pod = PodWithSpec(R"({
      "initContainers": [{"name": "setup"}, {"name": "proxy", "restartPolicy": "Always"}],
      "containers": [{"name": "app", "image": "nginx"}]})");
  PodId id = IdOf(pod);
  EXPECT_EQ(id.namespace_, "shop");
  EXPECT_EQ(id.name, "web");
  EXPECT_EQ(id.uid, "uid-1");
  EXPECT_EQ(id.FullName(), "web_shop");
  ASSERT_NE(FindContainer(pod, "app"), nullptr);
  EXPECT_EQ(FindContainer(pod, "app")->at("image").as_string(), "nginx");
  ASSERT_NE(FindContainer(pod, "proxy"), nullptr);
  EXPECT_EQ(FindContainer(pod, "nope"), nullptr);
  EXPECT_FALSE(IsSidecar(*FindContainer(pod, "setup")));
  EXPECT_TRUE(IsSidecar(*FindContainer(pod, "proxy")));
  EXPECT_TRUE(Containers(PodWithSpec("{}")).empty());
}

TEST(PodSpecTest, ContainerRefNamesTheFieldPath) {
  bj::object pod = PodWithSpec(R"({"initContainers": [{"name": "setup"}],
                                   "containers": [{"name": "app"}]})");
  EXPECT_EQ(ContainerRef(pod, "app").field_path, "spec.containers{app}");
  EXPECT_EQ(ContainerRef(pod, "setup").field_path, "spec.initContainers{setup}");
  EXPECT_EQ(ContainerRef(pod, "app").uid, "uid-1");
  EXPECT_EQ(PodRef(pod).kind, "Pod");
  EXPECT_EQ(PodRef(pod).field_path, "");
}

TEST(PodSpecTest, ResourceQuantities) {
  bj::object c = Obj(R"({"resources": {"requests": {"cpu": "250m", "memory": "1Gi"},
                                       "limits": {"cpu": "2"}}})");
  EXPECT_EQ(ResourceQuantity(c, "requests", "cpu"), 250);
  EXPECT_EQ(ResourceQuantity(c, "limits", "cpu"), 2000);
  EXPECT_EQ(ResourceQuantity(c, "requests", "memory"), int64_t{1} << 30);
  EXPECT_EQ(ResourceQuantity(c, "limits", "memory"), std::nullopt);
}

TEST(PodSpecTest, TerminalPhasesAndDeletion) {
  EXPECT_TRUE(IsTerminalPhase("Succeeded"));
  EXPECT_TRUE(IsTerminalPhase("Failed"));
  EXPECT_FALSE(IsTerminalPhase("Running"));
  bj::object pod = PodWithSpec("{}");
  EXPECT_FALSE(BeingDeleted(pod));
  pod["metadata"].as_object()["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  EXPECT_TRUE(BeingDeleted(pod));
}

}  // namespace
}  // namespace berth::agent
