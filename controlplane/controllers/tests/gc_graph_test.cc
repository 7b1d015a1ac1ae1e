// The garbage collector's graph on its own: which nodes informer events
// and absent owners make, and what each change asks the workers to do.

#include "controlplane/controllers/gc_graph.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::controlplane::controllers::gc {
namespace {

OwnerReference Ref(const std::string& uid, const std::string& name, bool block = true,
                   const std::string& kind = "ReplicaSet") {
  return {"apps/v1", kind, name, uid, true, block};
}

ObjectState State(const std::string& uid, const std::string& name,
                  std::vector<OwnerReference> owners = {}, const std::string& kind = "ReplicaSet",
                  const std::string& ns = "default") {
  ObjectState s;
  s.identity = {kind == "Pod" ? "v1" : "apps/v1", kind, name, uid, ns};
  s.owners = std::move(owners);
  return s;
}

ObjectState Deleting(ObjectState s, const std::string& finalizer) {
  s.being_deleted = true;
  s.finalizers = {finalizer};
  return s;
}

bool Has(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

TEST(GcGraphTest, ParsesOwnerReferences) {
  auto obj = boost::json::parse(R"({"metadata": {"ownerReferences": [
      {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1",
       "controller": true, "blockOwnerDeletion": true},
      {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "u2"},
      {"apiVersion": "v1", "kind": "ConfigMap", "name": "no-uid"}]}})")
                 .as_object();
  std::vector<OwnerReference> refs = OwnerReferencesOf(obj);
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0], Ref("u1", "rs"));
  EXPECT_TRUE(refs[0].Blocks());
  EXPECT_FALSE(refs[1].Blocks());
  EXPECT_FALSE(refs[1].controller.has_value());
  EXPECT_EQ(boost::json::serialize(refs[1].ToJson()),
            R"({"apiVersion":"v1","kind":"ConfigMap","name":"cm","uid":"u2"})");
}

TEST(GcGraphTest, AnOwnerSeenAfterItsDependentReplacesItsVirtualNode) {
  Graph g;
  GraphActions a =
      g.Observe(Graph::Change::kAdded, State("pod", "p", {Ref("rs", "r")}, "Pod"), nullptr);
  const Node* owner = g.Find("rs");
  ASSERT_NE(owner, nullptr);
  EXPECT_FALSE(owner->observed);
  EXPECT_EQ(owner->identity.namespace_, "default");  // the dependent's, until seen
  EXPECT_TRUE(Has(a.attempt_to_delete, "rs"));       // does it exist?
  EXPECT_EQ(g.Dependents("rs").size(), 1u);

  a = g.Observe(Graph::Change::kAdded, State("rs", "r"), nullptr);
  EXPECT_TRUE(g.Find("rs")->observed);
  EXPECT_TRUE(a.attempt_to_delete.empty());
  EXPECT_EQ(g.Dependents("rs").size(), 1u);
}

TEST(GcGraphTest, AnOwnerDeletedSendsItsDependentsToAttemptToDelete) {
  Graph g;
  (void)g.Observe(Graph::Change::kAdded, State("rs", "r"), nullptr);
  (void)g.Observe(Graph::Change::kAdded, State("p1", "p1", {Ref("rs", "r")}, "Pod"), nullptr);
  (void)g.Observe(Graph::Change::kAdded, State("p2", "p2", {Ref("rs", "r")}, "Pod"), nullptr);
  GraphActions a = g.Observe(Graph::Change::kDeleted, State("rs", "r"), nullptr);
  EXPECT_EQ(g.Find("rs"), nullptr);
  EXPECT_TRUE(Has(a.attempt_to_delete, "p1"));
  EXPECT_TRUE(Has(a.attempt_to_delete, "p2"));
  EXPECT_TRUE(g.absent_owners().Has(State("rs", "r").identity));
  // The dependents still name it; the node is not made again by them.
  EXPECT_EQ(g.Find("p1")->owners.size(), 1u);
}

TEST(GcGraphTest, ForegroundDeletionQueuesDependentsAndWaitsForBlockingOnes) {
  Graph g;
  ObjectState rs = State("rs", "r");
  (void)g.Observe(Graph::Change::kAdded, rs, nullptr);
  (void)g.Observe(Graph::Change::kAdded, State("p1", "p1", {Ref("rs", "r", true)}, "Pod"), nullptr);
  (void)g.Observe(Graph::Change::kAdded, State("p2", "p2", {Ref("rs", "r", false)}, "Pod"),
                  nullptr);
  ObjectState deleting = Deleting(rs, kForegroundFinalizer);
  GraphActions a = g.Observe(Graph::Change::kUpdated, deleting, &rs);
  EXPECT_TRUE(g.Find("rs")->deleting_dependents);
  EXPECT_TRUE(Has(a.attempt_to_delete, "p1"));
  EXPECT_TRUE(Has(a.attempt_to_delete, "p2"));
  EXPECT_TRUE(Has(a.attempt_to_delete, "rs"));
  std::vector<const Node*> blocking = g.BlockingDependents("rs");
  ASSERT_EQ(blocking.size(), 1u);
  EXPECT_EQ(blocking[0]->identity.uid, "p1");

  // The same state again is no new transition.
  a = g.Observe(Graph::Change::kUpdated, deleting, &deleting);
  EXPECT_TRUE(a.attempt_to_delete.empty());

  // The blocking dependent gone, the owner is looked at again.
  a = g.Observe(Graph::Change::kDeleted, State("p1", "p1", {Ref("rs", "r", true)}, "Pod"), nullptr);
  EXPECT_TRUE(Has(a.attempt_to_delete, "rs"));
  EXPECT_TRUE(g.BlockingDependents("rs").empty());
}

TEST(GcGraphTest, AReferenceThatStopsBlockingQueuesTheOwner) {
  Graph g;
  (void)g.Observe(Graph::Change::kAdded, State("rs", "r"), nullptr);
  ObjectState pod = State("p", "p", {Ref("rs", "r", true)}, "Pod");
  (void)g.Observe(Graph::Change::kAdded, pod, nullptr);
  ObjectState unblocked = State("p", "p", {Ref("rs", "r", false)}, "Pod");
  GraphActions a = g.Observe(Graph::Change::kUpdated, unblocked, &pod);
  EXPECT_TRUE(Has(a.attempt_to_delete, "rs"));
  EXPECT_TRUE(g.BlockingDependents("rs").empty());

  // A reference removed takes the dependent off the owner.
  ObjectState freed = State("p", "p", {}, "Pod");
  (void)g.Observe(Graph::Change::kUpdated, freed, &unblocked);
  EXPECT_TRUE(g.Dependents("rs").empty());
}

TEST(GcGraphTest, OrphanDeletionQueuesTheOwnerForAttemptToOrphanOnce) {
  Graph g;
  ObjectState rs = State("rs", "r");
  (void)g.Observe(Graph::Change::kAdded, rs, nullptr);
  ObjectState deleting = Deleting(rs, kOrphanFinalizer);
  GraphActions a = g.Observe(Graph::Change::kUpdated, deleting, &rs);
  EXPECT_EQ(a.attempt_to_orphan, std::vector<std::string>{"rs"});
  EXPECT_TRUE(g.Find("rs")->being_deleted);
  EXPECT_FALSE(g.Find("rs")->deleting_dependents);
  a = g.Observe(Graph::Change::kUpdated, deleting, &deleting);
  EXPECT_TRUE(a.attempt_to_orphan.empty());
  // First seen already deleting (an informer's first list): also a transition.
  Graph fresh;
  a = fresh.Observe(Graph::Change::kAdded, deleting, nullptr);
  EXPECT_EQ(a.attempt_to_orphan, std::vector<std::string>{"rs"});
}

TEST(GcGraphTest, AnAbsentVirtualOwnerGoesAndItsDependentsAreQueued) {
  Graph g;
  (void)g.Observe(Graph::Change::kAdded, State("p", "p", {Ref("gone", "r")}, "Pod"), nullptr);
  ASSERT_NE(g.Find("gone"), nullptr);
  GraphActions a = g.ObserveAbsent(g.Find("gone")->identity);
  EXPECT_EQ(g.Find("gone"), nullptr);
  EXPECT_TRUE(Has(a.attempt_to_delete, "p"));
}

TEST(GcGraphTest, AVirtualOwnerNamedTwoWaysIsKeptUnderTheOtherName) {
  Graph g;
  (void)g.Observe(Graph::Change::kAdded, State("p1", "p1", {Ref("o", "right")}, "Pod"), nullptr);
  (void)g.Observe(Graph::Change::kAdded, State("p2", "p2", {Ref("o", "wrong")}, "Pod"), nullptr);
  ObjectIdentity first = g.Find("o")->identity;
  EXPECT_EQ(first.name, "right");
  // "right" does not exist: p1 is queued, the node stays as "wrong".
  GraphActions a = g.ObserveAbsent(first);
  ASSERT_NE(g.Find("o"), nullptr);
  EXPECT_EQ(g.Find("o")->identity.name, "wrong");
  EXPECT_TRUE(Has(a.attempt_to_delete, "p1"));
  EXPECT_EQ(a.attempt_to_delete_later, std::vector<std::string>{"o"});
  EXPECT_TRUE(g.absent_owners().Has(first));
}

TEST(GcGraphTest, AnOwnerInAnotherNamespaceIsReportedAndItsDependentChecked) {
  Graph g;
  (void)g.Observe(Graph::Change::kAdded, State("rs", "r", {}, "ReplicaSet", "a"), nullptr);
  GraphActions a =
      g.Observe(Graph::Change::kAdded, State("p", "p", {Ref("rs", "r")}, "Pod", "b"), nullptr);
  EXPECT_TRUE(Has(a.attempt_to_delete, "p"));
  ASSERT_EQ(a.invalid_namespace_refs.size(), 1u);
  EXPECT_EQ(a.invalid_namespace_refs[0].first.name, "p");
  EXPECT_EQ(a.invalid_namespace_refs[0].second.uid, "rs");
}

TEST(GcGraphTest, AbsentOwnerCacheKeepsTheMostRecent) {
  AbsentOwnerCache cache(2);
  ObjectIdentity a{"v1", "ConfigMap", "a", "ua", "ns"};
  ObjectIdentity b{"v1", "ConfigMap", "b", "ub", "ns"};
  ObjectIdentity c{"v1", "ConfigMap", "c", "uc", "ns"};
  cache.Add(a);
  cache.Add(b);
  EXPECT_TRUE(cache.Has(a));  // a is now the most recent
  cache.Add(c);
  EXPECT_TRUE(cache.Has(a));
  EXPECT_FALSE(cache.Has(b));
  EXPECT_TRUE(cache.Has(c));
  ObjectIdentity elsewhere = a;
  elsewhere.namespace_ = "other";
  EXPECT_FALSE(cache.Has(elsewhere));
}

}  // namespace
}  // namespace berth::controlplane::controllers::gc
