// The pure parts of the ReplicaSet and Deployment controllers: maxSurge
// and maxUnavailable rounding, rollout arithmetic, proportional scaling,
// revision annotations, the template hash, deletion order, expectations
// and status calculation.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "common/time.h"
#include "controlplane/controllers/deployment_conditions.h"
#include "controlplane/controllers/deployment_revisions.h"
#include "controlplane/controllers/deployment_util.h"
#include "controlplane/controllers/expectations.h"
#include "controlplane/controllers/pod_ranking.h"
#include "controlplane/controllers/pod_template_hash.h"
#include "controlplane/controllers/replicaset_status.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

bj::object Deployment(int64_t replicas, bj::value surge, bj::value unavailable) {
  return bj::object{
      {"metadata", bj::object{{"name", "web"}, {"generation", 1}}},
      {"spec",
       bj::object{{"replicas", replicas},
                  {"strategy",
                   bj::object{{"type", "RollingUpdate"},
                              {"rollingUpdate", bj::object{{"maxSurge", surge},
                                                           {"maxUnavailable", unavailable}}}}}}}};
}

bj::object ReplicaSet(const std::string& name, int64_t spec, int64_t replicas, int64_t available,
                      const std::string& created = "2025-01-01T00:00:00Z") {
  return bj::object{
      {"metadata", bj::object{{"name", name}, {"creationTimestamp", created}}},
      {"spec", bj::object{{"replicas", spec}}},
      {"status", bj::object{{"replicas", replicas}, {"availableReplicas", available}}}};
}

TEST(DeploymentMathTest, SurgeRoundsUpUnavailableRoundsDown) {
  EXPECT_EQ(*ScaledValue(bj::value("25%"), 10, true), 3);
  EXPECT_EQ(*ScaledValue(bj::value("25%"), 10, false), 2);
  EXPECT_EQ(*ScaledValue(bj::value(2), 10, true), 2);
  EXPECT_FALSE(ScaledValue(bj::value("5"), 10, true).ok());
  EXPECT_FALSE(ScaledValue(bj::value("x%"), 10, true).ok());

  bj::value surge("30%"), unavailable("30%");
  Fenceposts f = *ResolveFenceposts(&surge, &unavailable, 5);
  EXPECT_EQ(f.surge, 2);
  EXPECT_EQ(f.unavailable, 1);
  // Both zero: one may be unavailable, or the rollout could never move.
  bj::value zero("0%");
  f = *ResolveFenceposts(&zero, &zero, 5);
  EXPECT_EQ(f.surge, 0);
  EXPECT_EQ(f.unavailable, 1);
  // 10% of 3 rounds to 1 up and 0 down.
  bj::value ten("10%");
  f = *ResolveFenceposts(&ten, &ten, 3);
  EXPECT_EQ(f.surge, 1);
  EXPECT_EQ(f.unavailable, 0);

  EXPECT_EQ(MaxSurge(Deployment(5, "30%", "30%")), 2);
  EXPECT_EQ(MaxUnavailable(Deployment(5, "30%", "30%")), 1);
  EXPECT_EQ(MaxUnavailable(Deployment(2, 0, 5)), 2) << "at most spec.replicas";
  bj::object recreate = Deployment(3, 1, 1);
  recreate["spec"].as_object()["strategy"] = bj::object{{"type", "Recreate"}};
  EXPECT_EQ(MaxSurge(recreate), 0);
  EXPECT_EQ(MaxUnavailable(recreate), 0);
}

TEST(DeploymentMathTest, NewReplicaSetGrowsWithinMaxSurgeCountingPodsNotYetDeleted) {
  bj::object d = Deployment(5, 2, 1);
  bj::object old = ReplicaSet("old", 5, 5, 5);
  bj::object fresh = ReplicaSet("new", 0, 0, 0);
  EXPECT_EQ(NewRSNewReplicas(d, {&old, &fresh}, fresh), 2);
  // Old scaled to 4 but its fifth pod not deleted yet: no room.
  old = ReplicaSet("old", 4, 5, 5);
  fresh = ReplicaSet("new", 2, 2, 2);
  EXPECT_EQ(NewRSNewReplicas(d, {&old, &fresh}, fresh), 2);
  old = ReplicaSet("old", 4, 4, 4);
  EXPECT_EQ(NewRSNewReplicas(d, {&old, &fresh}, fresh), 3);
  // Never past spec.replicas.
  old = ReplicaSet("old", 0, 0, 0);
  fresh = ReplicaSet("new", 4, 4, 4);
  EXPECT_EQ(NewRSNewReplicas(d, {&old, &fresh}, fresh), 5);
  // Pods about to be deleted are not available.
  old = ReplicaSet("old", 2, 4, 4);
  EXPECT_EQ(AvailableForScaleDown({&old, &fresh}), 6);
}

TEST(DeploymentMathTest, ScalingEventsAreProportionedByTheMaxReplicasAnnotation) {
  bj::object d = Deployment(20, 0, 1);
  bj::object rs = ReplicaSet("a", 5, 5, 5);
  SetAnnotation(rs, kMaxReplicasAnnotation, "10");
  // 5 of 10 becomes 10 of 20: 5 more, within what is left to add.
  EXPECT_EQ(GetProportion(rs, d, 10, 0), 5);
  EXPECT_EQ(GetProportion(rs, d, 10, 8), 2);
  // Scaling down to zero takes everything.
  EXPECT_EQ(GetProportion(rs, Deployment(0, 0, 1), -5, 0), -5);
}

TEST(DeploymentMathTest, ActiveOrLatestAndSaturation) {
  bj::object a = ReplicaSet("a", 0, 0, 0, "2025-01-01T00:00:00Z");
  bj::object b = ReplicaSet("b", 0, 0, 0, "2025-01-02T00:00:00Z");
  EXPECT_EQ(FindActiveOrLatest(nullptr, {&a, &b}), &b) << "none active: the newest";
  a["spec"].as_object()["replicas"] = 2;
  EXPECT_EQ(FindActiveOrLatest(nullptr, {&a, &b}), &a);
  b["spec"].as_object()["replicas"] = 1;
  EXPECT_EQ(FindActiveOrLatest(nullptr, {&a, &b}), nullptr);

  bj::object d = Deployment(3, 1, 1);
  bj::object rs = ReplicaSet("new", 3, 3, 3);
  EXPECT_FALSE(IsSaturated(d, &rs)) << "no desired-replicas annotation";
  SetReplicasAnnotations(rs, 3, 4);
  EXPECT_TRUE(IsSaturated(d, &rs));
}

TEST(DeploymentRevisionsTest, ANewReplicaSetGetsTheRevisionAndTheDeploymentsAnnotations) {
  bj::object d = Deployment(3, 1, 1);
  SetAnnotation(d, "team", "a");
  SetAnnotation(d, "kubectl.kubernetes.io/last-applied-configuration", "{}");
  SetAnnotation(d, kRevisionAnnotation, "7");
  bj::object rs = ReplicaSet("new", 0, 0, 0);
  EXPECT_TRUE(SetNewReplicaSetAnnotations(d, rs, "1", false));
  EXPECT_EQ(Annotation(rs, kRevisionAnnotation), "1");
  EXPECT_EQ(Annotation(rs, "team"), "a");
  EXPECT_EQ(Annotation(rs, "kubectl.kubernetes.io/last-applied-configuration"), "");
  EXPECT_EQ(Annotation(rs, kDesiredReplicasAnnotation), "3");
  EXPECT_EQ(Annotation(rs, kMaxReplicasAnnotation), "4");
  EXPECT_EQ(Annotation(rs, kRevisionHistoryAnnotation), "");
  EXPECT_FALSE(SetNewReplicaSetAnnotations(d, rs, "1", true)) << "nothing changes";

  // Made the new one again (a rollback): the earlier revisions are history.
  EXPECT_TRUE(SetNewReplicaSetAnnotations(d, rs, "3", true));
  EXPECT_EQ(Annotation(rs, kRevisionAnnotation), "3");
  EXPECT_EQ(Annotation(rs, kRevisionHistoryAnnotation), "1");
  EXPECT_TRUE(SetNewReplicaSetAnnotations(d, rs, "5", true));
  EXPECT_EQ(Annotation(rs, kRevisionHistoryAnnotation), "1,3");
  EXPECT_FALSE(SetNewReplicaSetAnnotations(d, rs, "4", true)) << "revisions only rise";

  bj::object a = ReplicaSet("a", 0, 0, 0);
  bj::object b = ReplicaSet("b", 0, 0, 0);
  bj::object c = ReplicaSet("c", 0, 0, 0);
  SetAnnotation(a, kRevisionAnnotation, "10");
  SetAnnotation(b, kRevisionAnnotation, "2");
  ReplicaSetList list = {&a, &b, &c};
  EXPECT_EQ(MaxRevision(list), 10);
  SortByRevision(list);
  EXPECT_EQ(list, (ReplicaSetList{&c, &b, &a}));
  EXPECT_TRUE(SetDeploymentRevision(d, "10"));
  EXPECT_FALSE(SetDeploymentRevision(d, "10"));
}

TEST(PodTemplateHashTest, StableAcrossRepresentationsAndChangedByTheTemplateOrCollisions) {
  bj::value base = bj::parse(
      R"({"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"a"}]}})");
  bj::value same = bj::parse(
      R"({"spec":{"containers":[{"image":"a","name":"web","args":[]}]},)"
      R"("metadata":{"creationTimestamp":null,"labels":{"app":"web"},"annotations":{}}})");
  bj::value other = bj::parse(
      R"({"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"b"}]}})");
  std::string hash = ComputeHash(base, std::nullopt);
  EXPECT_EQ(ComputeHash(same, std::nullopt), hash);
  EXPECT_NE(ComputeHash(other, std::nullopt), hash);
  EXPECT_NE(ComputeHash(base, 1), hash);
  EXPECT_NE(ComputeHash(base, 1), ComputeHash(base, 2));
  EXPECT_EQ(hash.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos) << hash;
  EXPECT_TRUE(EqualIgnoreHash(base, same));
  bj::value labelled = same;
  labelled.as_object()["metadata"].as_object()["labels"].as_object()[kPodTemplateHashLabel] = hash;
  EXPECT_TRUE(EqualIgnoreHash(base, labelled));
  EXPECT_FALSE(EqualIgnoreHash(base, other));
}

TEST(DeploymentConditionsTest, SetKeepsTheTransitionTimeWhileTheStatusHolds) {
  bj::object status;
  SetCondition(status,
               NewCondition(kDeploymentProgressing, "True", kNewReplicaSetReason, "a", 100));
  SetCondition(status,
               NewCondition(kDeploymentProgressing, "True", kReplicaSetUpdatedReason, "b", 200));
  const bj::object* c = GetCondition(status, kDeploymentProgressing);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->at("reason"), kReplicaSetUpdatedReason);
  EXPECT_EQ(c->at("lastTransitionTime"), bj::value(FormatRfc3339(100)));
  EXPECT_EQ(c->at("lastUpdateTime"), bj::value(FormatRfc3339(200)));
  // Same status and reason: the old condition stays.
  SetCondition(status,
               NewCondition(kDeploymentProgressing, "True", kReplicaSetUpdatedReason, "c", 300));
  EXPECT_EQ(GetCondition(status, kDeploymentProgressing)->at("message"), "b");
  SetCondition(status, NewCondition(kDeploymentProgressing, "False", kTimedOutReason, "d", 400));
  EXPECT_EQ(GetCondition(status, kDeploymentProgressing)->at("lastTransitionTime"),
            bj::value(FormatRfc3339(400)));
  RemoveCondition(status, kDeploymentProgressing);
  EXPECT_EQ(GetCondition(status, kDeploymentProgressing), nullptr);
  EXPECT_FALSE(status.contains("conditions"));
}

TEST(DeploymentConditionsTest, CompleteProgressingAndTimedOut) {
  bj::object d = Deployment(3, 1, 1);
  d["spec"].as_object()["progressDeadlineSeconds"] = 10;
  bj::object status{
      {"observedGeneration", 1}, {"replicas", 3}, {"updatedReplicas", 3}, {"availableReplicas", 3}};
  EXPECT_TRUE(DeploymentComplete(d, status));
  status["observedGeneration"] = 0;
  EXPECT_FALSE(DeploymentComplete(d, status));
  d["status"] = bj::object{{"replicas", 4}, {"updatedReplicas", 1}};
  EXPECT_TRUE(DeploymentProgressing(d, bj::object{{"replicas", 4}, {"updatedReplicas", 2}}));
  EXPECT_FALSE(DeploymentProgressing(d, bj::object{{"replicas", 4}, {"updatedReplicas", 1}}));

  bj::object stuck;
  SetCondition(stuck,
               NewCondition(kDeploymentProgressing, "True", kReplicaSetUpdatedReason, "", 1000));
  EXPECT_FALSE(DeploymentTimedOut(d, stuck, 1005));
  EXPECT_TRUE(DeploymentTimedOut(d, stuck, 1011));
  d["spec"].as_object()["progressDeadlineSeconds"] = 2147483647;  // none
  EXPECT_FALSE(DeploymentTimedOut(d, stuck, 5000));
}

bj::object Pod(const std::string& name, const std::string& node, const std::string& phase,
               bool ready, time_t created) {
  bj::array conditions;
  if (ready) {
    conditions.push_back(bj::object{
        {"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", FormatRfc3339(created)}});
  }
  return bj::object{{"metadata", bj::object{{"name", name},
                                            {"uid", "uid-" + name},
                                            {"creationTimestamp", FormatRfc3339(created)}}},
                    {"spec", bj::object{{"nodeName", node}}},
                    {"status", bj::object{{"phase", phase}, {"conditions", conditions}}}};
}

std::vector<std::string> Names(const std::vector<bj::object>& pods) {
  std::vector<std::string> out;
  out.reserve(pods.size());
  for (const bj::object& p : pods)
    out.emplace_back(p.at("metadata").at("name").as_string());
  return out;
}

TEST(PodRankingTest, UnscheduledPendingUnreadyAndNewerPodsGoFirst) {
  timespec now{1'000'000, 0};
  std::vector<bj::object> pods = {
      Pod("old-ready", "n1", "Running", true, 1'000'000 - 100'000),
      Pod("new-ready", "n2", "Running", true, 1'000'000 - 10),
      Pod("unready", "n3", "Running", false, 1'000'000 - 100'000),
      Pod("pending", "n1", "Pending", false, 1'000'000 - 100'000),
      Pod("unscheduled", "", "Pending", false, 1'000'000 - 100'000),
  };
  EXPECT_EQ(Names(PodsToDelete(pods, {}, 4, now)),
            (std::vector<std::string>{"unscheduled", "pending", "unready", "new-ready"}));
  // Doubled up: of two equal pods, the one sharing its node goes first.
  std::vector<bj::object> pair = {Pod("alone", "n1", "Running", true, 1'000'000 - 10),
                                  Pod("shared", "n2", "Running", true, 1'000'000 - 10)};
  std::vector<bj::object> related = pair;
  related.push_back(Pod("sibling", "n2", "Running", true, 1'000'000 - 10));
  EXPECT_EQ(Names(PodsToDelete(pair, related, 1, now)), std::vector<std::string>{"shared"});
  // A higher deletion cost protects a pod.
  pair[1]["metadata"].as_object()["annotations"] =
      bj::object{{"controller.kubernetes.io/pod-deletion-cost", "100"}};
  EXPECT_EQ(Names(PodsToDelete(pair, {}, 1, now)), std::vector<std::string>{"alone"});
}

TEST(ExpectationsTest, SatisfiedOnceTheInformerSawWhatWasDone) {
  Expectations e;
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  e.ExpectCreations("ns/rs", 2);
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  e.ExpectDeletions("ns/rs", {"ns/a", "ns/b"});
  e.DeletionObserved("ns/rs", "ns/a");
  e.DeletionObserved("ns/rs", "ns/a");  // twice: counted once
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.DeletionObserved("ns/rs", "ns/b");
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  Expectations expiring(std::chrono::seconds(0));
  expiring.ExpectCreations("ns/rs", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_TRUE(expiring.Satisfied("ns/rs")) << "a lost event does not block forever";
}

TEST(ReplicaSetStatusTest, CountsAndTheReplicaFailureCondition) {
  bj::object rs{
      {"metadata", bj::object{{"name", "rs"}, {"generation", 2}}},
      {"spec",
       bj::object{{"replicas", 3},
                  {"minReadySeconds", 10},
                  {"template",
                   bj::object{{"metadata",
                               bj::object{{"labels", bj::object{{"app", "a"}, {"t", "1"}}}}}}}}},
      {"status", bj::object{{"replicas", 0}, {"observedGeneration", 1}}}};
  bj::object labelled = Pod("x", "n", "Running", true, 1000);
  labelled["metadata"].as_object()["labels"] = bj::object{{"app", "a"}, {"t", "1"}};
  bj::object recent = Pod("y", "n", "Running", true, 1995);
  bj::object unready = Pod("z", "n", "Pending", false, 1000);
  bj::object status =
      CalculateReplicaSetStatus(rs, {labelled, recent, unready}, "quota exceeded", 2000);
  EXPECT_EQ(status.at("replicas"), 3);
  EXPECT_EQ(status.at("fullyLabeledReplicas"), 1);
  EXPECT_EQ(status.at("readyReplicas"), 2);
  EXPECT_EQ(status.at("availableReplicas"), 1) << "y is Ready for only 5 of 10 seconds";
  const bj::array& conditions = status.at("conditions").as_array();
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].at("type"), "ReplicaFailure");
  EXPECT_EQ(conditions[0].at("message"), "quota exceeded");
  EXPECT_TRUE(ReplicaSetStatusChanged(rs, status));
  EXPECT_EQ(WithObservedGeneration(rs, status).at("observedGeneration"), 2);
  rs["status"] = WithObservedGeneration(rs, status);
  EXPECT_FALSE(ReplicaSetStatusChanged(rs, WithObservedGeneration(rs, status)));
  // Success clears the condition; zero counts are left out.
  bj::object cleared = CalculateReplicaSetStatus(rs, {}, std::nullopt, 2000);
  EXPECT_FALSE(cleared.contains("conditions"));
  EXPECT_FALSE(cleared.contains("readyReplicas"));
  EXPECT_EQ(cleared.at("replicas"), 0);
}

}  // namespace
}  // namespace berth::controlplane::controllers
