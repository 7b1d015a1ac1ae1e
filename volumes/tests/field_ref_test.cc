// The downward API values: fieldRef paths and resourceFieldRef resources.

#include "volumes/field_ref.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::volumes {
namespace {

namespace bj = boost::json;

bj::object Json(std::string_view text) {
  return bj::parse(text).as_object();
}

const bj::object& Pod() {
  static const bj::object pod = Json(R"({
    "metadata": {"name": "web-0", "namespace": "prod", "uid": "1234-5678",
                 "labels": {"tier": "front", "app": "web", "example.com/q": "say \"hi\"\n"},
                 "annotations": {"Note": "x"}},
    "spec": {"nodeName": "node-a", "serviceAccountName": "builder"},
    "status": {"hostIP": "10.0.0.1", "hostIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
               "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}, {"ip": "fd01::5"}]}
  })");
  return pod;
}

std::string Field(std::string_view path) {
  Result<std::string> v = PodFieldValue(Pod(), path);
  EXPECT_TRUE(v.ok()) << path << ": " << v.error().str();
  return v.ok() ? *v : "<error>";
}

TEST(PodFieldValueTest, MetadataAndSpec) {
  EXPECT_EQ(Field("metadata.name"), "web-0");
  EXPECT_EQ(Field("metadata.namespace"), "prod");
  EXPECT_EQ(Field("metadata.uid"), "1234-5678");
  EXPECT_EQ(Field("spec.nodeName"), "node-a");
  EXPECT_EQ(Field("spec.serviceAccountName"), "builder");
}

TEST(PodFieldValueTest, LabelsAreSortedQuotedLines) {
  EXPECT_EQ(Field("metadata.labels"),
            "app=\"web\"\nexample.com/q=\"say \\\"hi\\\"\\n\"\ntier=\"front\"");
  EXPECT_EQ(Field("metadata.annotations"), "Note=\"x\"");
  EXPECT_EQ(FormatStringMap(Json(R"({"k": "\u00e9\u0001"})")), "k=\"\u00e9\\x01\"");
}

TEST(PodFieldValueTest, Subscripts) {
  EXPECT_EQ(Field("metadata.labels['tier']"), "front");
  EXPECT_EQ(Field("metadata.labels['missing']"), "");
  EXPECT_EQ(Field("metadata.annotations['Note']"), "x");
  EXPECT_EQ(Field("metadata.labels['example.com/q']"), "say \"hi\"\n");
  Result<std::string> bad_key = PodFieldValue(Pod(), "metadata.labels['-bad']");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error().code(), Errc::kInvalidArgument);
  EXPECT_NE(bad_key.error().message().find("metadata.labels['-bad']"), std::string::npos);
  Result<std::string> no_subscript = PodFieldValue(Pod(), "metadata.name['x']");
  ASSERT_FALSE(no_subscript.ok());
  EXPECT_NE(no_subscript.error().message().find("does not support subscript"), std::string::npos);
}

TEST(PodFieldValueTest, StatusIps) {
  EXPECT_EQ(Field("status.hostIP"), "10.0.0.1");
  EXPECT_EQ(Field("status.hostIPs"), "10.0.0.1,fd00::1");
  EXPECT_EQ(Field("status.podIP"), "10.244.0.5");
  EXPECT_EQ(Field("status.podIPs"), "10.244.0.5,fd01::5");
  bj::object single = Json(R"({"status": {"podIP": "10.1.1.1", "hostIP": "192.0.2.1"}})");
  EXPECT_EQ(*PodFieldValue(single, "status.podIPs"), "10.1.1.1");
  EXPECT_EQ(*PodFieldValue(single, "status.hostIPs"), "192.0.2.1");
  EXPECT_EQ(*PodFieldValue(Json("{}"), "status.podIP"), "");
}

TEST(PodFieldValueTest, UnknownPathNamesIt) {
  Result<std::string> v = PodFieldValue(Pod(), "spec.hostname");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(v.error().message(), "unsupported fieldPath: spec.hostname");
}

std::string Resource(const bj::object& c, std::string_view res, std::string_view divisor,
                     NodeAllocatable node = {}) {
  Result<std::string> v = ResourceFieldValue(c, res, divisor, node);
  EXPECT_TRUE(v.ok()) << res << ": " << v.error().str();
  return v.ok() ? *v : "<error>";
}

TEST(ResourceFieldValueTest, DivisorsRoundUp) {
  bj::object c = Json(R"({"resources": {
      "limits": {"cpu": "1500m", "memory": "128Mi", "ephemeral-storage": "1G"},
      "requests": {"cpu": "250m", "memory": 1000000}}})");
  EXPECT_EQ(Resource(c, "limits.cpu", ""), "2");  // 1.5 cores, rounded up
  EXPECT_EQ(Resource(c, "limits.cpu", "1m"), "1500");
  EXPECT_EQ(Resource(c, "limits.cpu", "0"), "2");
  EXPECT_EQ(Resource(c, "requests.cpu", "1"), "1");
  EXPECT_EQ(Resource(c, "requests.cpu", "100m"), "3");
  EXPECT_EQ(Resource(c, "limits.memory", ""), "134217728");
  EXPECT_EQ(Resource(c, "limits.memory", "1Mi"), "128");
  EXPECT_EQ(Resource(c, "limits.memory", "1M"), "135");
  EXPECT_EQ(Resource(c, "requests.memory", "1Ki"), "977");
  EXPECT_EQ(Resource(c, "limits.ephemeral-storage", "1Gi"), "1");
}

TEST(ResourceFieldValueTest, UnsetLimitIsNodeAllocatableUnsetRequestIsLimit) {
  NodeAllocatable node{.cpu_milli = 4000, .memory = 8LL << 30, .ephemeral_storage = 100LL << 30};
  bj::object c = Json(R"({"resources": {"limits": {"memory": "64Mi"}}})");
  EXPECT_EQ(Resource(c, "limits.cpu", "", node), "4");
  EXPECT_EQ(Resource(c, "limits.memory", "1Mi", node), "64");
  EXPECT_EQ(Resource(c, "limits.ephemeral-storage", "1Gi", node), "100");
  EXPECT_EQ(Resource(c, "requests.memory", "1Mi", node), "64");
  EXPECT_EQ(Resource(c, "requests.cpu", "1m", node), "0");
}

TEST(ResourceFieldValueTest, RejectsUnknownResourceAndBadDivisor) {
  bj::object c = Json("{}");
  Result<std::string> v = ResourceFieldValue(c, "limits.gpu", "", {});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message(), "unsupported container resource : limits.gpu");
  EXPECT_FALSE(ResourceFieldValue(c, "cpu", "", {}).ok());
  EXPECT_FALSE(ResourceFieldValue(c, "limits.cpu", "lots", {}).ok());
  EXPECT_FALSE(
      ResourceFieldValue(Json(R"({"resources": {"limits": {"cpu": "x"}}})"), "limits.cpu", "", {})
          .ok());
}

}  // namespace
}  // namespace berth::volumes
