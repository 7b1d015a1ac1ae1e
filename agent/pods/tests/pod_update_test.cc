// Which objects from the pod watch make a worker sync (UpdateNeedsSync) and
// which are stale (ResourceVersionOlder).

#include <gtest/gtest.h>

#include "agent/pods/pod_worker.h"
#include "agent/pods/tests/pod_json.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using testing::Obj;

bj::object Pod(std::string_view rv, std::string_view status = R"({"phase": "Pending"})") {
  bj::object pod = Obj(R"({"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "web", "namespace": "shop", "uid": "uid-1",
                   "labels": {"app": "web"}},
      "spec": {"containers": [{"name": "app", "image": "busybox"}]}})");
  pod["metadata"].as_object()["resourceVersion"] = rv;
  pod["status"] = bj::parse(status);
  return pod;
}

constexpr std::string_view kRunning = R"({"phase": "Running", "podIP": "10.0.0.7"})";

TEST(UpdateNeedsSync, EchoOfTheAgentsOwnStatusDoesNot) {
  bj::object have = Pod("10");
  bj::object own = Obj(kRunning);
  // The watch's copy of the PATCH, before the PATCH's response was seen...
  EXPECT_FALSE(UpdateNeedsSync(have, Pod("11", kRunning), &own));
  // ...and after: the worker already holds that very object.
  EXPECT_FALSE(UpdateNeedsSync(Pod("11", kRunning), Pod("11", kRunning), &own));
  // A new resourceVersion alone (managedFields too) changes nothing.
  bj::object with_fields = Pod("12", kRunning);
  with_fields["metadata"].as_object()["managedFields"] = bj::array{bj::object{{"manager", "x"}}};
  EXPECT_FALSE(UpdateNeedsSync(Pod("11", kRunning), with_fields, &own));
}

TEST(UpdateNeedsSync, StatusSomeoneElseWroteDoes) {
  bj::object own = Obj(kRunning);
  EXPECT_TRUE(UpdateNeedsSync(Pod("10"), Pod("11", kRunning), nullptr));
  EXPECT_TRUE(UpdateNeedsSync(
      Pod("11", kRunning),
      Pod("12", R"({"phase": "Running", "conditions": [{"type": "gate", "status": "True"}]})"),
      &own));
}

TEST(UpdateNeedsSync, SpecAndMetadataChangesDo) {
  bj::object own = Obj(kRunning);
  bj::object have = Pod("11", kRunning);

  bj::object deleting = Pod("12", kRunning);
  deleting["metadata"].as_object()["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  deleting["metadata"].as_object()["deletionGracePeriodSeconds"] = 30;
  EXPECT_TRUE(UpdateNeedsSync(have, deleting, &own));

  bj::object relabelled = Pod("12", kRunning);
  relabelled["metadata"].as_object()["labels"] = bj::object{{"app", "db"}};
  EXPECT_TRUE(UpdateNeedsSync(have, relabelled, &own));

  bj::object annotated = Pod("12", kRunning);
  annotated["metadata"].as_object()["annotations"] = bj::object{{"a", "b"}};
  EXPECT_TRUE(UpdateNeedsSync(have, annotated, &own));

  bj::object resized = Pod("12", kRunning);
  resized["spec"].as_object()["activeDeadlineSeconds"] = 5;
  EXPECT_TRUE(UpdateNeedsSync(have, resized, &own));
}

TEST(ResourceVersionOlder, ComparesDecimalRevisions) {
  EXPECT_TRUE(ResourceVersionOlder(Pod("9"), Pod("10")));
  EXPECT_TRUE(ResourceVersionOlder(Pod("10"), Pod("11")));
  EXPECT_FALSE(ResourceVersionOlder(Pod("11"), Pod("11")));
  EXPECT_FALSE(ResourceVersionOlder(Pod("100"), Pod("99")));
  // Without a revision (a static pod's own object) nothing is older.
  bj::object none = Pod("");
  none["metadata"].as_object().erase("resourceVersion");
  EXPECT_FALSE(ResourceVersionOlder(none, Pod("5")));
  EXPECT_FALSE(ResourceVersionOlder(Pod("5"), none));
}

}  // namespace
}  // namespace berth::agent
