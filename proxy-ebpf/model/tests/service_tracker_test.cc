// ServiceTracker: deltas for adds, updates and deletes of services and
// slices, nothing for unchanged objects, failed updates keeping the last
// good frontends, and the oldest service winning a contested key.

#include "proxy-ebpf/model/service_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::proxy {
namespace {

namespace bj = boost::json;

IpAddress Ip(std::string_view text) {
  return IpAddress::Parse(text).value_or(IpAddress{});
}

FrontendKey Key(std::string_view ip, uint16_t port, Scope scope = Scope::kInternal) {
  return {Ip(ip), port, L4Protocol::kTcp, scope};
}

// A ClusterIP service `name` in "shop" at `cluster_ip`:`port`, created at
// `created`, with optional externalIPs.
bj::object Service(std::string_view name, std::string_view cluster_ip, int port = 80,
                   std::string_view created = "2024-01-01T00:00:00Z",
                   std::string_view external_ips = "[]") {
  bj::object svc = bj::parse(R"({"metadata": {"namespace": "shop"},
    "spec": {"type": "ClusterIP", "ports": [{"name": "http", "port": 80}]}})")
                       .as_object();
  bj::object& meta = svc["metadata"].as_object();
  meta["name"] = name;
  meta["creationTimestamp"] = created;
  bj::object& spec = svc["spec"].as_object();
  spec["clusterIP"] = cluster_ip;
  spec["ports"].as_array()[0].as_object()["port"] = port;
  spec["externalIPs"] = bj::parse(external_ips);
  return svc;
}

bj::object Slice(std::string_view name, std::string_view service, std::string_view endpoints) {
  bj::object slice = bj::parse(R"({"metadata": {"namespace": "shop", "labels": {}},
    "addressType": "IPv4", "ports": [{"name": "http", "port": 8080}]})")
                         .as_object();
  bj::object& meta = slice["metadata"].as_object();
  meta["name"] = name;
  meta["labels"].as_object()["kubernetes.io/service-name"] = service;
  slice["endpoints"] = bj::parse(endpoints);
  return slice;
}

constexpr std::string_view kOneEndpoint = R"([{"addresses": ["10.0.1.1"], "nodeName": "node-a"}])";
constexpr std::string_view kTwoEndpoints =
    R"([{"addresses": ["10.0.1.1"], "nodeName": "node-a"}, {"addresses": ["10.0.2.2"]}])";

std::vector<FrontendKey> KeysOf(const std::vector<Frontend>& fes) {
  std::vector<FrontendKey> out;
  out.reserve(fes.size());
  for (const Frontend& fe : fes)
    out.push_back(fe.key);
  std::sort(out.begin(), out.end());
  return out;
}

class ServiceTrackerTest : public ::testing::Test {
 protected:
  ServiceTracker tracker_{NodeInfo{"node-a", {Ip("192.168.1.10")}}};
};

TEST_F(ServiceTrackerTest, ServiceThenSliceThenDeletes) {
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  FrontendDelta d = tracker_.TakeDelta();
  ASSERT_EQ(d.upserted.size(), 1U);
  EXPECT_TRUE(d.removed.empty());
  EXPECT_EQ(d.upserted[0].key, Key("10.96.0.10", 80));
  EXPECT_EQ(d.upserted[0].service, "shop/web");
  EXPECT_TRUE(d.upserted[0].backends.empty());
  EXPECT_TRUE(tracker_.TakeDelta().empty());

  tracker_.SliceUpserted(Slice("web-1", "web", kOneEndpoint));
  d = tracker_.TakeDelta();
  ASSERT_EQ(d.upserted.size(), 1U);
  EXPECT_EQ(d.upserted[0].backends, (std::vector<Backend>{{Ip("10.0.1.1"), 8080, true, false}}));

  tracker_.SliceUpserted(Slice("web-1", "web", kTwoEndpoints));
  d = tracker_.TakeDelta();
  ASSERT_EQ(d.upserted.size(), 1U);
  EXPECT_EQ(d.upserted[0].backends.size(), 2U);

  tracker_.SliceDeleted(Slice("web-1", "web", kTwoEndpoints));
  d = tracker_.TakeDelta();
  ASSERT_EQ(d.upserted.size(), 1U);
  EXPECT_TRUE(d.upserted[0].backends.empty());

  tracker_.ServiceDeleted(Service("web", "10.96.0.10"));
  d = tracker_.TakeDelta();
  EXPECT_TRUE(d.upserted.empty());
  EXPECT_EQ(d.removed, (std::vector<FrontendKey>{Key("10.96.0.10", 80)}));
  EXPECT_TRUE(tracker_.AllFrontends().empty());
}

TEST_F(ServiceTrackerTest, SliceBeforeServiceIsKept) {
  tracker_.SliceUpserted(Slice("web-1", "web", kOneEndpoint));
  EXPECT_TRUE(tracker_.TakeDelta().empty());
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  FrontendDelta d = tracker_.TakeDelta();
  ASSERT_EQ(d.upserted.size(), 1U);
  EXPECT_EQ(d.upserted[0].backends.size(), 1U);
}

TEST_F(ServiceTrackerTest, UnchangedObjectsYieldEmptyDeltas) {
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  tracker_.SliceUpserted(Slice("web-1", "web", kOneEndpoint));
  EXPECT_FALSE(tracker_.TakeDelta().empty());
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  tracker_.SliceUpserted(Slice("web-1", "web", kOneEndpoint));
  EXPECT_TRUE(tracker_.TakeDelta().empty());
  // A change that does not touch the frontends (an unrelated annotation,
  // another service's slice) reports nothing either.
  bj::object annotated = Service("web", "10.96.0.10");
  annotated["metadata"].as_object()["annotations"] = bj::parse(R"({"a": "b"})");
  tracker_.ServiceUpserted(annotated);
  tracker_.SliceUpserted(Slice("api-1", "api", kOneEndpoint));
  EXPECT_TRUE(tracker_.TakeDelta().empty());
}

TEST_F(ServiceTrackerTest, ServiceUpdateMovesKeys) {
  tracker_.ServiceUpserted(Service("web", "10.96.0.10", 80));
  (void)tracker_.TakeDelta();
  tracker_.ServiceUpserted(Service("web", "10.96.0.10", 8000));
  FrontendDelta d = tracker_.TakeDelta();
  EXPECT_EQ(KeysOf(d.upserted), (std::vector<FrontendKey>{Key("10.96.0.10", 8000)}));
  EXPECT_EQ(d.removed, (std::vector<FrontendKey>{Key("10.96.0.10", 80)}));
  EXPECT_EQ(KeysOf(tracker_.AllFrontends()), (std::vector<FrontendKey>{Key("10.96.0.10", 8000)}));
}

TEST_F(ServiceTrackerTest, RemovedThenReaddedIsAnUpsert) {
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  (void)tracker_.TakeDelta();
  tracker_.ServiceDeleted(Service("web", "10.96.0.10"));
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  FrontendDelta d = tracker_.TakeDelta();
  EXPECT_EQ(KeysOf(d.upserted), (std::vector<FrontendKey>{Key("10.96.0.10", 80)}));
  EXPECT_TRUE(d.removed.empty());
}

TEST_F(ServiceTrackerTest, AddedThenRemovedIsNothing) {
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  tracker_.ServiceDeleted(Service("web", "10.96.0.10"));
  EXPECT_TRUE(tracker_.TakeDelta().empty());
}

TEST_F(ServiceTrackerTest, FailedUpdateKeepsPreviousFrontends) {
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  tracker_.SliceUpserted(Slice("web-1", "web", kOneEndpoint));
  (void)tracker_.TakeDelta();
  std::vector<Frontend> before = tracker_.AllFrontends();
  tracker_.ServiceUpserted(Service("web", "10.96.0.x"));
  EXPECT_TRUE(tracker_.TakeDelta().empty());
  EXPECT_EQ(tracker_.AllFrontends(), before);
  // Slice events for the broken service change nothing either.
  tracker_.SliceUpserted(Slice("web-1", "web", kTwoEndpoints));
  EXPECT_TRUE(tracker_.TakeDelta().empty());
  // Fixed: the latest slices apply.
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  FrontendDelta d = tracker_.TakeDelta();
  ASSERT_EQ(d.upserted.size(), 1U);
  EXPECT_EQ(d.upserted[0].backends.size(), 2U);
}

TEST_F(ServiceTrackerTest, OlderServiceWinsAContestedKey) {
  const std::string_view ext = R"(["203.0.113.5"])";
  // The newer service arrives first and serves the external IP.
  tracker_.ServiceUpserted(Service("young", "10.96.0.20", 80, "2024-06-01T00:00:00Z", ext));
  FrontendDelta d = tracker_.TakeDelta();
  EXPECT_EQ(d.upserted.size(), 3U);
  // The older one takes the contested keys over.
  tracker_.ServiceUpserted(Service("old", "10.96.0.10", 80, "2024-01-01T00:00:00Z", ext));
  d = tracker_.TakeDelta();
  EXPECT_TRUE(d.removed.empty());
  ASSERT_EQ(d.upserted.size(), 3U);  // old's ClusterIP + the two external-IP scopes
  for (const Frontend& fe : d.upserted)
    EXPECT_EQ(fe.service, "shop/old");
  std::vector<Frontend> all = tracker_.AllFrontends();
  EXPECT_EQ(all.size(), 4U);  // one per key
  for (const Frontend& fe : all) {
    if (fe.key.address == Ip("203.0.113.5")) {
      EXPECT_EQ(fe.service, "shop/old");
    }
  }
  // The winner's updates that do not change the key reach the delta; the
  // loser's do not.
  tracker_.SliceUpserted(Slice("young-1", "young", kOneEndpoint));
  d = tracker_.TakeDelta();
  EXPECT_EQ(KeysOf(d.upserted), (std::vector<FrontendKey>{Key("10.96.0.20", 80)}));
  // The winner goes: the loser's frontends appear in the next delta.
  tracker_.ServiceDeleted(Service("old", "10.96.0.10"));
  d = tracker_.TakeDelta();
  EXPECT_EQ(d.removed, (std::vector<FrontendKey>{Key("10.96.0.10", 80)}));
  EXPECT_EQ(
      KeysOf(d.upserted),
      (std::vector<FrontendKey>{Key("203.0.113.5", 80), Key("203.0.113.5", 80, Scope::kExternal)}));
  for (const Frontend& fe : d.upserted) {
    EXPECT_EQ(fe.service, "shop/young");
    EXPECT_EQ(fe.backends.size(), 1U);
  }
}

TEST_F(ServiceTrackerTest, SameAgeConflictFallsBackToName) {
  const std::string_view ext = R"(["203.0.113.5"])";
  tracker_.ServiceUpserted(Service("b", "10.96.0.20", 80, "2024-01-01T00:00:00Z", ext));
  tracker_.ServiceUpserted(Service("a", "10.96.0.10", 80, "2024-01-01T00:00:00Z", ext));
  for (const Frontend& fe : tracker_.AllFrontends()) {
    if (fe.key.address == Ip("203.0.113.5")) {
      EXPECT_EQ(fe.service, "shop/a");
    }
  }
}

TEST_F(ServiceTrackerTest, SliceRelabelledMovesBetweenServices) {
  tracker_.ServiceUpserted(Service("web", "10.96.0.10"));
  tracker_.ServiceUpserted(Service("api", "10.96.0.20"));
  tracker_.SliceUpserted(Slice("s-1", "web", kOneEndpoint));
  (void)tracker_.TakeDelta();
  tracker_.SliceUpserted(Slice("s-1", "api", kOneEndpoint));
  FrontendDelta d = tracker_.TakeDelta();
  ASSERT_EQ(d.upserted.size(), 2U);
  for (const Frontend& fe : d.upserted)
    EXPECT_EQ(fe.backends.empty(), fe.service == "shop/web");
}

TEST_F(ServiceTrackerTest, HealthChecksFollowTheServices) {
  bj::object svc = Service("web", "10.96.0.10");
  bj::object& spec = svc["spec"].as_object();
  spec["type"] = "LoadBalancer";
  spec["externalTrafficPolicy"] = "Local";
  spec["healthCheckNodePort"] = 32000;
  tracker_.ServiceUpserted(svc);
  EXPECT_EQ(tracker_.HealthChecks(), (std::vector<HealthCheck>{{"shop/web", 32000, 0}}));
  tracker_.SliceUpserted(Slice("web-1", "web", kTwoEndpoints));
  EXPECT_EQ(tracker_.HealthChecks(), (std::vector<HealthCheck>{{"shop/web", 32000, 1}}));
  tracker_.ServiceDeleted(svc);
  EXPECT_TRUE(tracker_.HealthChecks().empty());
}

}  // namespace
}  // namespace berth::proxy
