// Quantities, pod requests and node allocatable as the scheduler counts
// them.

#include "controlplane/scheduler/resources.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

namespace berth::controlplane::scheduler {
namespace {

namespace bj = boost::json;

bj::object Json(std::string_view text) {
  return bj::parse(text).as_object();
}

int64_t Milli(std::string_view text) {
  Result<int64_t> q = ParseQuantity(text, true);
  EXPECT_TRUE(q.ok()) << text << ": " << q.error().str();
  return q.ok() ? *q : -1;
}

int64_t Units(std::string_view text) {
  Result<int64_t> q = ParseQuantity(text, false);
  EXPECT_TRUE(q.ok()) << text << ": " << q.error().str();
  return q.ok() ? *q : -1;
}

TEST(ParseQuantityTest, ReadsSuffixesExponentsAndDecimals) {
  EXPECT_EQ(Milli("100m"), 100);
  EXPECT_EQ(Milli("2"), 2000);
  EXPECT_EQ(Milli("1.5"), 1500);
  EXPECT_EQ(Milli(".5"), 500);
  EXPECT_EQ(Milli("5."), 5000);
  EXPECT_EQ(Milli("+3"), 3000);
  EXPECT_EQ(Milli("0"), 0);
  EXPECT_EQ(Milli("0.000"), 0);
  EXPECT_EQ(Units("64Mi"), 67108864);
  EXPECT_EQ(Units("1.5Gi"), 1610612736);
  EXPECT_EQ(Units("1Ki"), 1024);
  EXPECT_EQ(Units("2Ti"), int64_t{2} << 40);
  EXPECT_EQ(Units("1k"), 1000);
  EXPECT_EQ(Units("1M"), 1000000);
  EXPECT_EQ(Units("1G"), 1000000000);
  EXPECT_EQ(Units("3T"), 3000000000000);
  EXPECT_EQ(Units("1P"), 1000000000000000);
  EXPECT_EQ(Units("1E"), 1000000000000000000);
  EXPECT_EQ(Units("7Ei"), int64_t{7} << 60);
  EXPECT_EQ(Units("2e3"), 2000);
  EXPECT_EQ(Units("2E3"), 2000);
  EXPECT_EQ(Units("5e+2"), 500);
  EXPECT_EQ(Milli("1e-3"), 1);
  EXPECT_EQ(Units("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Units("-5"), -5);
  EXPECT_EQ(Milli("-1.5"), -1500);
}

TEST(ParseQuantityTest, RoundsUp) {
  EXPECT_EQ(Units("100m"), 1);
  EXPECT_EQ(Units("1001m"), 2);
  EXPECT_EQ(Units("1000m"), 1);
  EXPECT_EQ(Units("0.5"), 1);
  EXPECT_EQ(Units("12E-1"), 2);
  EXPECT_EQ(Units("1n"), 1);
  EXPECT_EQ(Milli("1n"), 1);
  EXPECT_EQ(Milli("1u"), 1);
  EXPECT_EQ(Milli("1500u"), 2);
  EXPECT_EQ(Milli("0.1m"), 1);
  EXPECT_EQ(Units("1e-100"), 1);
  // More digits than 128 bits hold: the dropped ones still round up.
  EXPECT_EQ(Units("1.0000000000000000000000001"), 2);
  EXPECT_EQ(Milli("1.0000000000000000000000001"), 1001);
  EXPECT_EQ(Units("0.00000000000000000000000000000000000000000000001"), 1);
}

TEST(ParseQuantityTest, RejectsJunkAndOverflow) {
  for (std::string_view bad :
       {"", "abc", "1.2.3", "1x", "Mi", "1e", "1 m", "-", "1KI", "1K", "1mi", "m", ".", "1e3.5"}) {
    Result<int64_t> q = ParseQuantity(bad, true);
    ASSERT_FALSE(q.ok()) << bad;
    EXPECT_EQ(q.error().code(), Errc::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseQuantity("abc", false).error().message(), "\"abc\" is not a quantity");
  for (std::string_view big : {"9223372036854775808", "8Ei", "1e100", "100000000000000000000",
                               "9223372036854775807.5", "10E"}) {
    Result<int64_t> q = ParseQuantity(big, false);
    ASSERT_FALSE(q.ok()) << big;
    EXPECT_EQ(q.error().code(), Errc::kInvalidArgument) << big;
    EXPECT_EQ(q.error().message(), "\"" + std::string(big) + "\" is out of range");
  }
  // In milli units, a value near the limit overflows too.
  EXPECT_EQ(Milli("9223372036854775"), 9223372036854775000);
  EXPECT_FALSE(ParseQuantity("9223372036854776", true).ok());
}

TEST(PodRequestsTest, SumsContainersAndTakesTheLargestInitContainer) {
  Result<Resources> r = PodRequests(Json(R"({"spec": {
    "containers": [
      {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
      {"name": "b", "resources": {"requests": {"cpu": "200m", "memory": "64Mi",
                                               "ephemeral-storage": "1Gi"}}}],
    "initContainers": [
      {"name": "i", "resources": {"requests": {"cpu": "500m", "memory": "10Mi"}}}],
    "overhead": {"cpu": "10m", "memory": "1Mi"}}})"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->milli_cpu, 510);                   // max(300, 500) + 10
  EXPECT_EQ(r->memory, (128 << 20) + (1 << 20));  // max(128Mi, 10Mi) + 1Mi
  EXPECT_EQ(r->ephemeral_storage, int64_t{1} << 30);
  EXPECT_EQ(r->pods, 1);
}

TEST(PodRequestsTest, CountsSidecarsOnBothSides) {
  // Sidecars (restartPolicy Always) run with the containers and with every
  // init container after them: max(200+100+50, 100, 300+100, 150) = 400.
  Result<Resources> r = PodRequests(Json(R"({"spec": {
    "containers": [{"resources": {"requests": {"cpu": "200m"}}}],
    "initContainers": [
      {"restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}},
      {"resources": {"requests": {"cpu": "300m"}}},
      {"restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}}]}})"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->milli_cpu, 400);

  // A big init container before any sidecar stands alone.
  r = PodRequests(Json(R"({"spec": {
    "containers": [{"resources": {"requests": {"cpu": "200m"}}}],
    "initContainers": [
      {"resources": {"requests": {"cpu": "1"}}},
      {"restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}}]}})"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->milli_cpu, 1000);
}

TEST(PodRequestsTest, LimitsStandInForMissingRequests) {
  Result<Resources> r = PodRequests(Json(R"({"spec": {"containers": [
    {"resources": {"limits": {"cpu": "1", "memory": "2Gi"}, "requests": {"memory": "1Gi"}}},
    {"resources": {"limits": {"cpu": 2}}},
    {"name": "none"}]}})"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->milli_cpu, 3000);
  EXPECT_EQ(r->memory, int64_t{1} << 30);
  EXPECT_EQ(r->ephemeral_storage, 0);

  r = PodRequests(Json(R"({"spec": {"containers": [{"resources": {"requests": {"cpu": 0.5}}}]}})"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->milli_cpu, 500);

  r = PodRequests(Json(R"({"spec": {}})"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->milli_cpu, 0);
  EXPECT_EQ(r->pods, 1);
}

TEST(PodRequestsTest, ErrorsNameTheField) {
  auto error = [](std::string_view pod) {
    Result<Resources> r = PodRequests(Json(pod));
    EXPECT_FALSE(r.ok()) << pod;
    if (r.ok()) return std::string();
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
    return r.error().str();
  };
  EXPECT_EQ(error(R"({"spec": {"containers": [{}, {"resources": {"requests": {"cpu": "abc"}}}]}})"),
            "spec.containers[1].resources.requests.cpu: \"abc\" is not a quantity");
  EXPECT_EQ(error(R"({"spec": {"containers": [{"resources": {"requests": {"memory": "-1"}}}]}})"),
            "spec.containers[0].resources.requests.memory: Invalid value: \"-1\": must be "
            "greater than or equal to 0");
  EXPECT_EQ(error(R"({"spec": {"initContainers": [{"resources": {"limits": {"cpu": true}}}]}})"),
            "spec.initContainers[0].resources.limits.cpu: expected quantity, got boolean");
  EXPECT_EQ(error(R"({"spec": {"containers": {}}})"),
            "spec.containers: expected array, got object");
  EXPECT_EQ(error(R"({"spec": {"overhead": {"cpu": "1e100"}}})"),
            "spec.overhead.cpu: \"1e100\" is out of range");
  EXPECT_EQ(error(R"({"spec": {"initContainers": [{"restartPolicy": 1}]}})"),
            "spec.initContainers[0].restartPolicy: expected string, got number");
}

TEST(NodeAllocatableTest, FallsBackToCapacityPerResource) {
  Result<Resources> r = NodeAllocatable(Json(R"({"status": {
    "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"},
    "allocatable": {"cpu": "3900m", "pods": "100"}}})"));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->milli_cpu, 3900);
  EXPECT_EQ(r->memory, int64_t{8} << 30);
  EXPECT_EQ(r->ephemeral_storage, int64_t{100} << 30);
  EXPECT_EQ(r->pods, 100);

  // Neither list: nothing, not even pods.
  r = NodeAllocatable(Json(R"({"status": {}})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pods, 0);
  EXPECT_EQ(r->milli_cpu, 0);

  r = NodeAllocatable(Json(R"({"status": {"allocatable": {"memory": "lots"}}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), "status.allocatable.memory: \"lots\" is not a quantity");
}

TEST(ResourcesTest, AddsAndSubtracts) {
  Resources a{1000, 2048, 10, 1};
  Resources b{250, 48, 5, 1};
  a += b;
  EXPECT_EQ(a.milli_cpu, 1250);
  EXPECT_EQ(a.memory, 2096);
  EXPECT_EQ(a.ephemeral_storage, 15);
  EXPECT_EQ(a.pods, 2);
  a -= b;
  a -= b;
  EXPECT_EQ(a.milli_cpu, 750);
  EXPECT_EQ(a.memory, 2000);
  EXPECT_EQ(a.ephemeral_storage, 5);
  EXPECT_EQ(a.pods, 0);
}

}  // namespace
}  // namespace berth::controlplane::scheduler
