// The node lifecycle pieces on their own: API timestamps, tolerations
// against taints and when a pod must go, zone states and the zone taint
// queue's rate, the node health judgement on a fake clock, and the
// DefaultTolerationSeconds admission.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controlplane/controllers/api_time.h"
#include "controlplane/controllers/condition_taints.h"
#include "controlplane/controllers/node_health.h"
#include "controlplane/controllers/taints.h"
#include "controlplane/controllers/zone_taint_queue.h"
#include "controlplane/server/admission/default_toleration_seconds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

WallTime At(const char* text) {
  return ParseApiTime(text).value();
}

bj::object Obj(const char* json) {
  return bj::parse(json).as_object();
}

TEST(ApiTimeTest, ParsesWhatTheApiWritesAndRefusesTheRest) {
  WallTime t = At("2024-02-29T23:59:58Z");
  EXPECT_EQ(ApiTime(t), "2024-02-29T23:59:58Z");
  EXPECT_EQ(At("2024-02-29T23:59:58.25Z") - t, milliseconds(250));
  EXPECT_EQ(At("2024-03-01T01:59:58+02:00"), t);
  EXPECT_EQ(ApiTime(At("1970-01-01T00:00:00.999999Z")), "1970-01-01T00:00:00Z");
  for (const char* bad : {"", "2024-02-29", "2024-02-29T23:59:58", "2024-02-29 23:59:58Z",
                          "2024-13-01T00:00:00Z", "2024-02-29T23:59:58.Z", "2024-02-29T23:59:58Zx"})
    EXPECT_FALSE(ParseApiTime(bad).has_value()) << bad;
}

TEST(TaintsTest, TolerationsMatchAsUpstreamSays) {
  bj::object taint = Obj(R"({"key":"k","value":"v","effect":"NoExecute"})");
  EXPECT_TRUE(ToleratesTaint(Obj(R"({"key":"k","operator":"Exists"})"), taint));
  EXPECT_TRUE(ToleratesTaint(Obj(R"({"key":"k","value":"v"})"), taint));  // "" is Equal
  EXPECT_TRUE(ToleratesTaint(Obj(R"({"operator":"Exists"})"), taint));    // everything
  EXPECT_TRUE(ToleratesTaint(Obj(R"({"key":"k","value":"v","effect":"NoExecute"})"), taint));
  EXPECT_FALSE(ToleratesTaint(Obj(R"({"key":"k","value":"w"})"), taint));
  EXPECT_FALSE(
      ToleratesTaint(Obj(R"({"key":"k","operator":"Exists","effect":"NoSchedule"})"), taint));
  EXPECT_FALSE(ToleratesTaint(Obj(R"({"key":"other","operator":"Exists"})"), taint));
  EXPECT_FALSE(ToleratesTaint(Obj(R"({"key":"k","operator":"Lt","value":"v"})"), taint));
}

TEST(TaintsTest, APodGoesAtOnceAfterItsSecondsOrNever) {
  WallTime added = At("2024-01-01T00:00:00Z"), now = added + seconds(1);
  std::vector<TaintSince> unreachable{
      {Obj(R"({"key":"node.kubernetes.io/unreachable","effect":"NoExecute"})"), added}};
  auto tolerations = [](const char* json) { return bj::parse(json).as_array(); };
  // Not tolerated: now.
  EXPECT_EQ(EvictionTime(unreachable, tolerations("[]"), now), now);
  // Tolerated for 300 s (what DefaultTolerationSeconds adds): from timeAdded.
  EXPECT_EQ(EvictionTime(unreachable, tolerations(R"([{"key":"node.kubernetes.io/unreachable",
                                          "operator":"Exists","effect":"NoExecute",
                                          "tolerationSeconds":300}])"),
                         now),
            added + seconds(300));
  // The first matching toleration counts; zero or less is at once.
  EXPECT_EQ(EvictionTime(unreachable, tolerations(R"([{"operator":"Exists","tolerationSeconds":-5},
                                         {"key":"node.kubernetes.io/unreachable",
                                          "operator":"Exists"}])"),
                         now),
            added);
  // Without seconds: never.
  EXPECT_FALSE(EvictionTime(unreachable, tolerations(R"([{"key":"node.kubernetes.io/unreachable",
                                             "operator":"Exists"}])"),
                            now)
                   .has_value());
  // Two taints: the earliest deadline; one untolerated one: now.
  std::vector<TaintSince> two = unreachable;
  two.push_back({Obj(R"({"key":"example.com/drain","effect":"NoExecute"})"), added + seconds(5)});
  EXPECT_EQ(EvictionTime(two, tolerations(R"([{"key":"node.kubernetes.io/unreachable",
                                          "operator":"Exists","tolerationSeconds":60},
                                         {"key":"example.com/drain","operator":"Exists",
                                          "tolerationSeconds":10}])"),
                         now),
            added + seconds(15));
  EXPECT_EQ(EvictionTime(two, tolerations(R"([{"key":"node.kubernetes.io/unreachable",
                                          "operator":"Exists"}])"),
                         now),
            now);
}

TEST(ZoneTest, ZonesAndTheirStates) {
  EXPECT_EQ(ZoneKey(Obj(R"({"metadata":{"name":"n"}})")), "");
  EXPECT_EQ(ZoneKey(Obj(R"({"metadata":{"labels":{"topology.kubernetes.io/region":"r",
      "topology.kubernetes.io/zone":"z"}}})")),
            std::string("r:\0:z", 5));
  EXPECT_EQ(ZoneKey(Obj(R"({"metadata":{"labels":{
      "failure-domain.beta.kubernetes.io/zone":"z"}}})")),
            std::string(":\0:z", 4));
  EXPECT_EQ(ComputeZoneState({false}, 0.55), std::make_pair(1, ZoneState::kFullDisruption));
  EXPECT_EQ(ComputeZoneState({true, true, false}, 0.55), std::make_pair(1, ZoneState::kNormal));
  // Two of two down but one is up: only >2 not ready counts as partial.
  EXPECT_EQ(ComputeZoneState({true, false, false}, 0.55).second, ZoneState::kNormal);
  EXPECT_EQ(ComputeZoneState({true, false, false, false}, 0.55),
            std::make_pair(3, ZoneState::kPartialDisruption));
  EXPECT_EQ(ComputeZoneState({true, true, true, false, false, false}, 0.55).second,
            ZoneState::kNormal);
  EXPECT_EQ(ComputeZoneState({}, 0.55).second, ZoneState::kNormal);
}

TEST(ZoneTest, TheQueueTaintsAtItsRateAndEachNodeOnce) {
  using Clock = ZoneTaintQueue::Clock;
  Clock::time_point t0 = Clock::now();
  ZoneTaintQueue q(0.5);  // one node per 2 s, burst 1
  EXPECT_TRUE(q.Add("a"));
  EXPECT_TRUE(q.Add("b"));
  EXPECT_FALSE(q.Add("a"));
  EXPECT_EQ(q.Next(t0), "a");
  q.Processed("a", true, {}, t0);
  EXPECT_FALSE(q.Add("a")) << "a tainted node is not queued again until removed";
  EXPECT_EQ(q.Next(t0 + seconds(1)), std::nullopt) << "no token yet";
  EXPECT_EQ(q.Next(t0 + milliseconds(3100)), "b");
  q.Processed("b", false, seconds(10), t0 + milliseconds(3100));  // failed: later
  EXPECT_EQ(q.Next(t0 + seconds(6)), std::nullopt) << "a token, but b's time has not come";
  EXPECT_EQ(q.Next(t0 + seconds(14)), "b");
  q.Processed("b", true, {}, t0 + seconds(14));
  EXPECT_TRUE(q.Empty());
  EXPECT_TRUE(q.Remove("a"));
  EXPECT_TRUE(q.Add("a"));
  // Rate 0 (every zone down): nothing; a new rate after an exhausted
  // bucket starts empty, as upstream's.
  q.SwapLimiter(0, t0 + seconds(20));
  EXPECT_EQ(q.Next(t0 + seconds(100)), std::nullopt);
  q.SwapLimiter(1, t0 + seconds(100));
  EXPECT_EQ(q.Next(t0 + seconds(100)), std::nullopt);
  EXPECT_EQ(q.Next(t0 + milliseconds(101100)), "a");
}

TEST(ConditionTaintsTest, NoScheduleTaintsFollowConditionsAndUnschedulable) {
  auto keys = [](const std::vector<bj::object>& taints) {
    std::string out;
    for (const bj::object& t : taints)
      out += std::string(t.at("key").as_string()) + ":" + std::string(t.at("effect").as_string()) +
             " ";
    return out;
  };
  bj::object node = Obj(R"({"spec":{"unschedulable":true,"taints":[
      {"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"},
      {"key":"node.kubernetes.io/unreachable","effect":"NoExecute"},
      {"key":"node.kubernetes.io/disk-pressure","effect":"NoSchedule"},
      {"key":"example.com/mine","effect":"NoSchedule"}]},
    "status":{"conditions":[{"type":"Ready","status":"False"},
      {"type":"MemoryPressure","status":"True"},{"type":"DiskPressure","status":"False"},
      {"type":"PIDPressure","status":"Unknown"},{"type":"NetworkUnavailable","status":"True"}]}})");
  TaintChanges changes = ConditionTaintChanges(node);
  EXPECT_EQ(keys(changes.add),
            "node.kubernetes.io/not-ready:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule "
            "node.kubernetes.io/network-unavailable:NoSchedule "
            "node.kubernetes.io/unschedulable:NoSchedule ");
  EXPECT_EQ(
      keys(changes.remove),
      "node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/disk-pressure:NoSchedule ");
  EXPECT_TRUE(ConditionTaintChanges(Obj(R"({"status":{"conditions":[
      {"type":"Ready","status":"True"}]}})"))
                  .empty());
}

class NodeHealthTest : public ::testing::Test {
 protected:
  bj::object Node(const char* ready_heartbeat) {
    bj::object node = Obj(R"({"metadata":{"name":"n","creationTimestamp":"2024-01-01T00:00:00Z"},
        "status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady",
        "lastTransitionTime":"2024-01-01T00:00:01Z"}]}})");
    (*FindCondition(node, "Ready"))["lastHeartbeatTime"] = ready_heartbeat;
    return node;
  }
  bj::object Lease(const char* renewed) {
    bj::object lease = Obj(R"({"metadata":{"name":"n"},"spec":{}})");
    lease["spec"].as_object()["renewTime"] = renewed;
    return lease;
  }
  HealthGrace grace_{seconds(40), seconds(60)};
  std::optional<NodeHealth> health_;
  WallTime t0_ = At("2024-01-01T00:01:00Z");
};

TEST_F(NodeHealthTest, ASilentNodeGoesUnknownAfterTheGracePeriodOfTheControllersClock) {
  bj::object node = Node("2024-01-01T00:00:30Z");
  HealthAssessment first = AssessNodeHealth(node, nullptr, health_, grace_, t0_);
  EXPECT_FALSE(first.write);
  EXPECT_EQ(health_->probe, t0_) << "first seen now, whatever its heartbeat says";
  EXPECT_FALSE(AssessNodeHealth(node, nullptr, health_, grace_, t0_ + seconds(40)).write);

  HealthAssessment stale = AssessNodeHealth(node, nullptr, health_, grace_, t0_ + seconds(41));
  ASSERT_TRUE(stale.write);
  EXPECT_EQ(stale.observed_ready.at("status"), "True");
  EXPECT_EQ(stale.current_ready->at("status"), "Unknown");
  const bj::object& ready = *FindCondition(node, "Ready");
  EXPECT_EQ(ready.at("reason"), "NodeStatusUnknown");
  EXPECT_EQ(ready.at("message"), "Kubelet stopped posting node status.");
  EXPECT_EQ(ready.at("lastHeartbeatTime"), "2024-01-01T00:00:30Z");
  EXPECT_EQ(ready.at("lastTransitionTime"), "2024-01-01T00:01:41Z");
  for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure"}) {
    const bj::object* c = FindCondition(node, type);
    ASSERT_NE(c, nullptr) << type;
    EXPECT_EQ(c->at("status"), "Unknown");
    EXPECT_EQ(c->at("reason"), "NodeStatusNeverUpdated");
    EXPECT_EQ(c->at("message"), "Kubelet never posted node status.");
    EXPECT_EQ(c->at("lastHeartbeatTime"), "2024-01-01T00:00:00Z");
  }
  EXPECT_EQ(FindCondition(node, "NetworkUnavailable"), nullptr);
  Written(node, *health_, t0_ + seconds(41));
  // Written and seen back: nothing more to write.
  EXPECT_FALSE(AssessNodeHealth(node, nullptr, health_, grace_, t0_ + seconds(50)).write);
}

TEST_F(NodeHealthTest, ALeaseRenewalOrANewHeartbeatKeepsTheNodeHealthy) {
  bj::object node = Node("2024-01-01T00:00:30Z");
  bj::object lease = Lease("2024-01-01T00:00:59.5Z");
  AssessNodeHealth(node, &lease, health_, grace_, t0_);
  bj::object renewed = Lease("2024-01-01T00:01:30.000001Z");
  EXPECT_FALSE(AssessNodeHealth(node, &renewed, health_, grace_, t0_ + seconds(30)).write);
  EXPECT_EQ(health_->probe, t0_ + seconds(30));
  EXPECT_FALSE(AssessNodeHealth(node, &renewed, health_, grace_, t0_ + seconds(70)).write);
  // The same Lease again is no renewal; a new heartbeat is.
  EXPECT_TRUE(AssessNodeHealth(node, &renewed, health_, grace_, t0_ + seconds(71)).write);
  bj::object fresh = Node("2024-01-01T00:02:20Z");
  EXPECT_FALSE(AssessNodeHealth(fresh, &renewed, health_, grace_, t0_ + seconds(80)).write);
  EXPECT_EQ(health_->probe, t0_ + seconds(80));
}

TEST_F(NodeHealthTest, ANodeThatNeverPostedGetsTheStartupGraceFromItsCreation) {
  bj::object node = Obj(R"({"metadata":{"name":"n","creationTimestamp":"2024-01-01T00:00:00Z"}})");
  HealthAssessment early =
      AssessNodeHealth(node, nullptr, health_, grace_, At("2024-01-01T00:01:00Z"));
  EXPECT_FALSE(early.write);
  EXPECT_FALSE(early.current_ready.has_value());
  EXPECT_EQ(early.observed_ready.at("status"), "Unknown");
  HealthAssessment late =
      AssessNodeHealth(node, nullptr, health_, grace_, At("2024-01-01T00:01:01Z"));
  ASSERT_TRUE(late.write);
  EXPECT_EQ(late.current_ready->at("reason"), "NodeStatusNeverUpdated");
}

TEST(DefaultTolerationSecondsTest, AddsWhatThePodDoesNotTolerateAlready) {
  auto admit = [](const char* spec) {
    bj::object pod{{"spec", bj::parse(spec)}};
    admission::DefaultTolerationSeconds(pod, {120, 60});
    return pod["spec"].as_object()["tolerations"];
  };
  EXPECT_EQ(admit("{}"), bj::parse(R"([
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":120},
      {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute",
       "tolerationSeconds":60}])"));
  // An empty key tolerates both; an empty effect too; NoSchedule does not.
  EXPECT_EQ(admit(R"({"tolerations":[{"operator":"Exists"}]})").as_array().size(), 1u);
  bj::value some = admit(R"({"tolerations":[
      {"key":"node.kubernetes.io/unreachable","operator":"Exists"},
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoSchedule"}]})");
  ASSERT_EQ(some.as_array().size(), 3u);
  EXPECT_EQ(some.at(2).at("key"), "node.kubernetes.io/not-ready");
  EXPECT_EQ(some.at(2).at("tolerationSeconds"), 120);
}

}  // namespace
}  // namespace berth::controlplane::controllers
