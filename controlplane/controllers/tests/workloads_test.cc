// The DaemonSet, Job, TTL-after-finished and StatefulSet controllers
// against a berth server in this process, with the scheduler binding pods
// to API-only nodes and a scripted kubelet running them
// (workloads_kit.h): a DaemonSet covers the eligible nodes only and
// follows them as labels change, and rolls out one node at a time; Jobs
// complete with the right number of successful pods, fail past their
// backoffLimit or deadline, and go after their TTL; a StatefulSet makes
// web-0, web-1, web-2 in order, each after the one before is Ready,
// removes them in reverse, and updates them from the highest ordinal down
// to its partition.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/controllers/tests/workloads_kit.h"
#include "controlplane/scheduler/scheduler.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;
using client::ApiClient;
using client::ClientConfig;
using controllers::StringAt;
using testing::TestNode;
using namespace std::chrono_literals;

constexpr char kNs[] = "/api/v1/namespaces/default";
constexpr char kApps[] = "/apis/apps/v1/namespaces/default";
constexpr char kBatch[] = "/apis/batch/v1/namespaces/default";

struct Reply {
  int code = 0;
  bj::value body;
};

bj::object Container(const std::string& image = "busybox") {
  return bj::object{{"name", "c"}, {"image", image}};
}

bj::object Taint(const std::string& key, const std::string& value, const std::string& effect) {
  bj::object t{{"key", key}, {"effect", effect}};
  if (!value.empty()) t["value"] = value;
  return t;
}

class WorkloadsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    admin_config_ = AdminConfig();
    api_ = std::make_unique<ApiClient>(admin_config_);
    kubelet_ = std::make_unique<testing::ScriptedKubelet>(admin_config_);
  }
  void TearDown() override {
    if (manager_) manager_->Stop();
    if (scheduler_) scheduler_->Stop();
    kubelet_.reset();
  }

  // The nodes, then the scheduler, the kubelet and the controllers.
  void Start(const std::vector<TestNode>& nodes) {
    for (const TestNode& n : nodes) {
      testing::AddTestNode(*api_, n);
      if (HasFatalFailure()) return;
    }
    ClientConfig own = admin_config_;
    own.certificate = server_->pki().scheduler;
    scheduler::SchedulerOptions options;
    options.queue.initial_backoff = 100ms;
    options.queue.max_backoff = 500ms;
    scheduler_ = std::make_unique<scheduler::Scheduler>(own, options);
    scheduler_->Start();
    kubelet_->Start();
    ASSERT_TRUE(Eventually([&] { return scheduler_->Synced() && kubelet_->Synced(); }));
    controllers::ControllerManagerOptions cm;
    cm.controllers = {"daemonset", "job", "ttl-after-finished", "statefulset", "garbagecollector"};
    cm.job.sync_batch_period = 20ms;
    cm.job.pod_failure_backoff = 100ms;
    StartTestControllers(*server_, manager_, cm);
  }

  Reply Do(const std::string& method, const std::string& target, const bj::value& body = nullptr,
           std::string_view type = "application/json") {
    Result<client::ApiResponse> r =
        api_->Do(method, target, body.is_null() ? "" : bj::serialize(body), type);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.error().str();
    if (!r.ok()) return {};
    return {r->status, r->Json()};
  }
  bj::object Must(const std::string& method, const std::string& target, const bj::value& body,
                  int want, std::string_view type = "application/json") {
    Reply r = Do(method, target, body, type);
    EXPECT_EQ(r.code, want) << method << " " << target << ": " << bj::serialize(r.body);
    return r.body.is_object() ? r.body.as_object() : bj::object();
  }
  bj::object Get(const std::string& target) {
    Reply r = Do("GET", target);
    return r.code == 200 && r.body.is_object() ? r.body.as_object() : bj::object();
  }
  // The items of a list; `selector` is a label selector, URL-encoded.
  std::vector<bj::object> List(const std::string& collection, const std::string& selector = "") {
    Reply r = Do("GET", collection + (selector.empty() ? "" : "?labelSelector=" + selector));
    std::vector<bj::object> out;
    if (r.code != 200) return out;
    for (const bj::value& item : r.body.at("items").as_array())
      out.push_back(item.as_object());
    return out;
  }
  // Pods with the label selector that are not being deleted.
  std::vector<bj::object> LivePods(const std::string& selector) {
    std::vector<bj::object> out;
    for (bj::object& pod : List(std::string(kNs) + "/pods", selector))
      if (!controllers::BeingDeleted(pod)) out.push_back(std::move(pod));
    return out;
  }
  // reason -> messages of the events about `name`.
  std::multimap<std::string, std::string> Events(const std::string& name) {
    std::multimap<std::string, std::string> out;
    for (const bj::object& e :
         List(std::string(kNs) + "/events?fieldSelector=involvedObject.name%3D" + name)) {
      out.emplace(StringAt(e, {"reason"}), StringAt(e, {"message"}));
    }
    return out;
  }
  bool HasEvent(const std::string& name, const std::string& reason, const std::string& message) {
    std::multimap<std::string, std::string> events = Events(name);
    for (auto [it, end] = events.equal_range(reason); it != end; ++it)
      if (it->second == message) return true;
    return false;
  }

  template <class Pred>
  static bool Eventually(Pred pred, std::chrono::milliseconds limit = 15s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }

  static int64_t Int(const bj::object& obj, std::initializer_list<std::string_view> path) {
    const bj::value* v = api::Lookup(obj, path);
    return v != nullptr && v->is_int64() ? v->as_int64() : -1;
  }
  static std::string Condition(const bj::object& obj, const std::string& type) {
    const bj::value* cs = api::Lookup(obj, {"status", "conditions"});
    if (cs == nullptr || !cs->is_array()) return "";
    for (const bj::value& c : cs->as_array())
      if (StringAt(c.as_object(), {"type"}) == type) return StringAt(c.as_object(), {"status"});
    return "";
  }
  static std::string ConditionReason(const bj::object& obj, const std::string& type) {
    const bj::value* cs = api::Lookup(obj, {"status", "conditions"});
    if (cs == nullptr || !cs->is_array()) return "";
    for (const bj::value& c : cs->as_array())
      if (StringAt(c.as_object(), {"type"}) == type) return StringAt(c.as_object(), {"reason"});
    return "";
  }

  ClientConfig admin_config_;
  std::unique_ptr<ApiClient> api_;
  std::unique_ptr<testing::ScriptedKubelet> kubelet_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<controllers::ControllerManager> manager_;
};

bj::object DaemonSet(const std::string& name, bj::object pod_spec_extra = {}) {
  bj::object spec{{"containers", bj::array{Container()}}};
  for (auto& kv : pod_spec_extra)
    spec[kv.key()] = kv.value();
  return bj::object{
      {"metadata", bj::object{{"name", name}}},
      {"spec",
       bj::object{
           {"selector", bj::object{{"matchLabels", bj::object{{"app", name}}}}},
           {"template", bj::object{{"metadata", bj::object{{"labels", bj::object{{"app", name}}}}},
                                   {"spec", std::move(spec)}}}}}};
}

std::set<std::string> NodesOf(const std::vector<bj::object>& pods) {
  std::set<std::string> out;
  for (const bj::object& pod : pods)
    out.insert(StringAt(pod, {"spec", "nodeName"}));
  return out;
}

TEST_F(WorkloadsTest, DaemonSetCoversEligibleNodesOnlyAndFollowsThem) {
  bj::object ssd{{"disk", "ssd"}};
  Start({{"ssd-1", ssd, {}, false},
         // Cordoned (with the taint the node controller adds): daemon pods
         // tolerate it.
         {"ssd-cordoned", ssd, {Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")}, true},
         {"hdd", bj::object{{"disk", "hdd"}}, {}, false},
         {"ssd-dedicated", ssd, {Taint("dedicated", "db", "NoSchedule")}, false}});
  ASSERT_NE(manager_, nullptr);
  Must("POST", std::string(kApps) + "/daemonsets",
       DaemonSet("agent", bj::object{{"nodeSelector", ssd}}), 201);

  ASSERT_TRUE(Eventually([&] {
    std::vector<bj::object> pods = LivePods("app%3Dagent");
    if (NodesOf(pods) != std::set<std::string>{"ssd-1", "ssd-cordoned"} || pods.size() != 2) {
      return false;
    }
    for (const bj::object& pod : pods)
      if (!controllers::IsPodReady(pod)) return false;
    return true;
  })) << "pods on: "
      << bj::serialize(bj::value_from(NodesOf(LivePods("app%3Dagent"))));
  bj::object ds;
  ASSERT_TRUE(Eventually([&] {
    ds = Get(std::string(kApps) + "/daemonsets/agent");
    return Int(ds, {"status", "numberAvailable"}) == 2;
  })) << bj::serialize(ds);
  EXPECT_EQ(Int(ds, {"status", "desiredNumberScheduled"}), 2);
  EXPECT_EQ(Int(ds, {"status", "currentNumberScheduled"}), 2);
  EXPECT_EQ(Int(ds, {"status", "numberReady"}), 2);
  EXPECT_EQ(Int(ds, {"status", "updatedNumberScheduled"}), 2);
  EXPECT_EQ(Int(ds, {"status", "numberMisscheduled"}), 0);
  EXPECT_EQ(Int(ds, {"status", "observedGeneration"}), Int(ds, {"metadata", "generation"}));

  // Each pod: pinned to its node for the scheduler, the revision's hash,
  // the daemon tolerations, a controller reference.
  std::vector<bj::object> revisions = List(std::string(kApps) + "/controllerrevisions");
  ASSERT_EQ(revisions.size(), 1u);
  std::string hash = StringAt(revisions[0], {"metadata", "labels", "controller-revision-hash"});
  EXPECT_EQ(StringAt(revisions[0], {"metadata", "name"}), "agent-" + hash);
  for (const bj::object& pod : LivePods("app%3Dagent")) {
    std::string node = StringAt(pod, {"spec", "nodeName"});
    const bj::value& term = pod.at("spec")
                                .at("affinity")
                                .at("nodeAffinity")
                                .at("requiredDuringSchedulingIgnoredDuringExecution")
                                .at("nodeSelectorTerms")
                                .at(0);
    EXPECT_EQ(bj::serialize(term.at("matchFields")),
              bj::serialize(bj::array{bj::object{
                  {"key", "metadata.name"}, {"operator", "In"}, {"values", bj::array{node}}}}));
    EXPECT_EQ(StringAt(pod, {"metadata", "labels", "controller-revision-hash"}), hash);
    std::string tolerations = bj::serialize(pod.at("spec").at("tolerations"));
    for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
                            "node.kubernetes.io/unschedulable", "node.kubernetes.io/disk-pressure"})
      EXPECT_NE(tolerations.find(key), std::string::npos) << key;
    EXPECT_EQ(StringAt(pod.at("metadata").at("ownerReferences").at(0).as_object(), {"kind"}),
              "DaemonSet");
    EXPECT_TRUE(HasEvent("agent", "SuccessfulCreate",
                         "Created pod: " + StringAt(pod, {"metadata", "name"})));
  }

  // A node that starts to fit gets a pod; one that stops fitting loses it.
  std::string on_ssd1;
  for (const bj::object& pod : LivePods("app%3Dagent"))
    if (StringAt(pod, {"spec", "nodeName"}) == "ssd-1")
      on_ssd1 = StringAt(pod, {"metadata", "name"});
  Must("PATCH", "/api/v1/nodes/hdd", bj::object{{"metadata", {{"labels", ssd}}}}, 200,
       "application/merge-patch+json");
  Must("PATCH", "/api/v1/nodes/ssd-1",
       bj::object{{"metadata", {{"labels", bj::object{{"disk", "hdd"}}}}}}, 200,
       "application/merge-patch+json");
  EXPECT_TRUE(Eventually([&] {
    std::vector<bj::object> pods = LivePods("app%3Dagent");
    return pods.size() == 2 && NodesOf(pods) == std::set<std::string>{"ssd-cordoned", "hdd"};
  })) << bj::serialize(bj::value_from(NodesOf(LivePods("app%3Dagent"))));
  EXPECT_TRUE(
      Eventually([&] { return HasEvent("agent", "SuccessfulDelete", "Deleted pod: " + on_ssd1); }));
}

TEST_F(WorkloadsTest, DaemonSetRollingUpdateReplacesOneNodeAtATime) {
  Start({{"n1", {}, {}, false}, {"n2", {}, {}, false}, {"n3", {}, {}, false}});
  ASSERT_NE(manager_, nullptr);
  Must("POST", std::string(kApps) + "/daemonsets", DaemonSet("roll"), 201);
  ASSERT_TRUE(Eventually([&] {
    return Int(Get(std::string(kApps) + "/daemonsets/roll"), {"status", "numberAvailable"}) == 3;
  }));
  std::set<std::string> old_pods;
  for (const bj::object& pod : LivePods("app%3Droll"))
    old_pods.insert(StringAt(pod, {"metadata", "name"}));
  testing::PodEventLog log(admin_config_, std::string(kNs) + "/pods?labelSelector=app%3Droll");
  log.Start();

  Must(
      "PATCH", std::string(kApps) + "/daemonsets/roll",
      bj::object{{"spec",
                  {{"template", {{"spec", {{"containers", bj::array{Container("busybox:2")}}}}}}}}},
      200, "application/strategic-merge-patch+json");
  bj::object ds;
  ASSERT_TRUE(Eventually([&] {
    ds = Get(std::string(kApps) + "/daemonsets/roll");
    std::vector<bj::object> pods = LivePods("app%3Droll");
    if (pods.size() != 3) return false;
    for (const bj::object& pod : pods) {
      if (StringAt(pod.at("spec").at("containers").at(0).as_object(), {"image"}) != "busybox:2" ||
          !controllers::IsPodReady(pod)) {
        return false;
      }
    }
    return Int(ds, {"status", "updatedNumberScheduled"}) == 3 &&
           Int(ds, {"status", "numberAvailable"}) == 3;
  })) << bj::serialize(ds);

  // maxUnavailable 1: each old pod is deleted only once the node before
  // it has a Ready new pod.
  std::vector<std::string> events = log.Events();
  int ready_new = 0;
  int deleted_old = 0;
  for (const std::string& e : events) {
    std::string name = e.substr(e.find(' ') + 1);
    if (e.starts_with("READY ") && !old_pods.contains(name)) ++ready_new;
    if (e.starts_with("DELETING ") && old_pods.contains(name)) {
      EXPECT_EQ(deleted_old, ready_new)
          << "deleted " << name << " with " << ready_new << " new pods ready";
      ++deleted_old;
    }
  }
  EXPECT_EQ(deleted_old, 3);
  std::vector<bj::object> revisions = List(std::string(kApps) + "/controllerrevisions");
  std::set<int64_t> numbers;
  for (const bj::object& r : revisions)
    numbers.insert(Int(r, {"revision"}));
  EXPECT_EQ(numbers, (std::set<int64_t>{1, 2}));
}

bj::object Job(const std::string& name, bj::object spec_extra) {
  bj::object spec{
      {"template", bj::object{{"spec", bj::object{{"containers", bj::array{Container()}},
                                                  {"restartPolicy", "Never"}}}}}};
  for (auto& kv : spec_extra)
    spec[kv.key()] = kv.value();
  return bj::object{{"metadata", bj::object{{"name", name}}}, {"spec", std::move(spec)}};
}

TEST_F(WorkloadsTest, JobCompletesWithTheRightNumberOfSuccessfulPods) {
  Start({{"n1", {}, {}, false}, {"n2", {}, {}, false}});
  ASSERT_NE(manager_, nullptr);
  kubelet_->set_outcome([](const bj::object&) { return "Succeeded"; });
  Must("POST", std::string(kBatch) + "/jobs",
       Job("pi", bj::object{{"completions", 3}, {"parallelism", 2}}), 201);
  bj::object job;
  ASSERT_TRUE(Eventually([&] {
    job = Get(std::string(kBatch) + "/jobs/pi");
    return Condition(job, "Complete") == "True";
  })) << bj::serialize(job);
  EXPECT_EQ(Int(job, {"status", "succeeded"}), 3);
  EXPECT_EQ(Int(job, {"status", "failed"}), -1);  // 0: omitted, as upstream
  EXPECT_EQ(Int(job, {"status", "active"}), -1);
  EXPECT_EQ(Condition(job, "SuccessCriteriaMet"), "True");
  EXPECT_EQ(ConditionReason(job, "Complete"), "CompletionsReached");
  EXPECT_FALSE(StringAt(job, {"status", "startTime"}).empty());
  EXPECT_FALSE(StringAt(job, {"status", "completionTime"}).empty());
  EXPECT_EQ(bj::serialize(job.at("status").at("uncountedTerminatedPods")), "{}");

  std::vector<bj::object> pods =
      List(std::string(kNs) + "/pods", "batch.kubernetes.io%2Fjob-name%3Dpi");
  EXPECT_EQ(pods.size(), 3u);
  for (const bj::object& pod : pods) {
    EXPECT_EQ(StringAt(pod, {"status", "phase"}), "Succeeded");
    EXPECT_EQ(StringAt(pod, {"metadata", "labels", "batch.kubernetes.io/controller-uid"}),
              StringAt(job, {"metadata", "uid"}));
    EXPECT_TRUE(controllers::StringsAt(pod, {"metadata", "finalizers"}).empty())
        << "the tracking finalizer stayed on " << StringAt(pod, {"metadata", "name"});
    EXPECT_TRUE(
        HasEvent("pi", "SuccessfulCreate", "Created pod: " + StringAt(pod, {"metadata", "name"})));
  }
  EXPECT_TRUE(Eventually([&] { return HasEvent("pi", "Completed", "Job completed"); }));
}

TEST_F(WorkloadsTest, AWorkQueueJobCompletesWhenAPodSucceededAndNoneRun) {
  Start({{"n1", {}, {}, false}});
  ASSERT_NE(manager_, nullptr);
  kubelet_->set_outcome([](const bj::object&) { return "Succeeded"; });
  bj::object made = Must("POST", std::string(kBatch) + "/jobs",
                         Job("queue", bj::object{{"parallelism", 2}}), 201);
  EXPECT_EQ(api::Lookup(made, {"spec", "completions"}), nullptr) << bj::serialize(made);
  bj::object job;
  ASSERT_TRUE(Eventually([&] {
    job = Get(std::string(kBatch) + "/jobs/queue");
    return Condition(job, "Complete") == "True";
  })) << bj::serialize(job);
  EXPECT_EQ(Int(job, {"status", "succeeded"}), 2);
  EXPECT_EQ(Int(job, {"status", "active"}), -1);
}

TEST_F(WorkloadsTest, JobFailsPastItsBackoffLimit) {
  Start({{"n1", {}, {}, false}});
  ASSERT_NE(manager_, nullptr);
  kubelet_->set_outcome([](const bj::object&) { return "Failed"; });
  Must("POST", std::string(kBatch) + "/jobs", Job("flaky", bj::object{{"backoffLimit", 1}}), 201);
  bj::object job;
  ASSERT_TRUE(Eventually([&] {
    job = Get(std::string(kBatch) + "/jobs/flaky");
    return Condition(job, "Failed") == "True";
  })) << bj::serialize(job);
  EXPECT_EQ(ConditionReason(job, "Failed"), "BackoffLimitExceeded");
  EXPECT_EQ(Condition(job, "FailureTarget"), "True");
  // One failure is within the limit of 1; the second is past it.
  EXPECT_EQ(Int(job, {"status", "failed"}), 2);
  EXPECT_EQ(Int(job, {"status", "succeeded"}), -1);
  EXPECT_EQ(List(std::string(kNs) + "/pods", "batch.kubernetes.io%2Fjob-name%3Dflaky").size(), 2u);
  EXPECT_TRUE(Eventually([&] {
    return HasEvent("flaky", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
  }));
}

TEST_F(WorkloadsTest, JobPastItsDeadlineFailsAndItsPodsAreDeleted) {
  Start({{"n1", {}, {}, false}});
  ASSERT_NE(manager_, nullptr);
  kubelet_->set_outcome([](const bj::object&) { return ""; });  // they run forever
  Must(
      "POST", std::string(kBatch) + "/jobs",
      Job("slow", bj::object{{"parallelism", 2}, {"completions", 2}, {"activeDeadlineSeconds", 1}}),
      201);
  ASSERT_TRUE(
      Eventually([&] { return LivePods("batch.kubernetes.io%2Fjob-name%3Dslow").size() == 2; }));
  bj::object job;
  ASSERT_TRUE(Eventually([&] {
    job = Get(std::string(kBatch) + "/jobs/slow");
    return Condition(job, "Failed") == "True";
  })) << bj::serialize(job);
  EXPECT_EQ(ConditionReason(job, "Failed"), "DeadlineExceeded");
  EXPECT_EQ(Int(job, {"status", "active"}), -1);
  EXPECT_EQ(Int(job, {"status", "failed"}), 2);  // deleted before they succeeded
  EXPECT_TRUE(List(std::string(kNs) + "/pods", "batch.kubernetes.io%2Fjob-name%3Dslow").empty());
  EXPECT_TRUE(Eventually([&] {
    return HasEvent("slow", "DeadlineExceeded", "Job was active longer than specified deadline");
  }));
}

TEST_F(WorkloadsTest, AFinishedJobAndItsPodsGoAfterItsTtl) {
  Start({{"n1", {}, {}, false}});
  ASSERT_NE(manager_, nullptr);
  kubelet_->set_outcome([](const bj::object&) { return "Succeeded"; });
  Must("POST", std::string(kBatch) + "/jobs",
       Job("brief", bj::object{{"ttlSecondsAfterFinished", 1}}), 201);
  ASSERT_TRUE(Eventually(
      [&] { return Condition(Get(std::string(kBatch) + "/jobs/brief"), "Complete") == "True"; }));
  EXPECT_EQ(List(std::string(kNs) + "/pods", "batch.kubernetes.io%2Fjob-name%3Dbrief").size(), 1u);
  EXPECT_TRUE(Eventually([&] {
    return Do("GET", std::string(kBatch) + "/jobs/brief").code == 404 &&
           List(std::string(kNs) + "/pods", "batch.kubernetes.io%2Fjob-name%3Dbrief").empty();
  }));
}

bj::object StatefulSet(const std::string& name, int replicas) {
  bj::object labels{{"app", name}};
  bj::object claim{
      {"metadata", bj::object{{"name", "data"}}},
      {"spec",
       bj::object{{"accessModes", bj::array{"ReadWriteOnce"}},
                  {"resources", bj::object{{"requests", bj::object{{"storage", "1Gi"}}}}}}}};
  return bj::object{
      {"metadata", bj::object{{"name", name}}},
      {"spec",
       bj::object{
           {"replicas", replicas},
           {"serviceName", name},
           {"selector", bj::object{{"matchLabels", labels}}},
           {"template", bj::object{{"metadata", bj::object{{"labels", labels}}},
                                   {"spec", bj::object{{"containers", bj::array{Container()}}}}}},
           {"volumeClaimTemplates", bj::array{claim}}}}};
}

TEST_F(WorkloadsTest, StatefulSetMakesItsPodsInOrderAndRemovesThemInReverse) {
  Start({{"n1", {}, {}, false}, {"n2", {}, {}, false}});
  ASSERT_NE(manager_, nullptr);
  // Readiness takes a while: a controller that did not wait would make
  // web-1 before web-0 is Ready.
  kubelet_->set_ready_after(300ms);
  testing::PodEventLog log(admin_config_, std::string(kNs) + "/pods?labelSelector=app%3Dweb");
  log.Start();
  Must("POST", std::string(kApps) + "/statefulsets", StatefulSet("web", 3), 201);
  bj::object set;
  ASSERT_TRUE(Eventually([&] {
    set = Get(std::string(kApps) + "/statefulsets/web");
    return Int(set, {"status", "readyReplicas"}) == 3;
  })) << bj::serialize(set);
  std::vector<std::string> events = log.Events();
  std::string seen;
  for (const std::string& e : events)
    seen += e + "; ";
  for (int i = 1; i < 3; ++i) {
    std::string before = "web-" + std::to_string(i - 1);
    std::string pod = "web-" + std::to_string(i);
    ASSERT_GE(log.IndexOf("READY " + before), 0) << seen;
    EXPECT_GT(log.IndexOf("ADDED " + pod), log.IndexOf("READY " + before)) << seen;
  }
  EXPECT_EQ(Int(set, {"status", "replicas"}), 3);
  EXPECT_EQ(Int(set, {"status", "availableReplicas"}), 3);
  EXPECT_EQ(Int(set, {"status", "currentReplicas"}), 3);
  EXPECT_EQ(Int(set, {"status", "updatedReplicas"}), 3);
  EXPECT_EQ(Int(set, {"status", "observedGeneration"}), 1);
  std::string revision = StringAt(set, {"status", "updateRevision"});
  EXPECT_EQ(StringAt(set, {"status", "currentRevision"}), revision);
  EXPECT_TRUE(revision.starts_with("web-")) << revision;

  for (int i = 0; i < 3; ++i) {
    std::string name = "web-" + std::to_string(i);
    bj::object pod = Get(std::string(kNs) + "/pods/" + name);
    EXPECT_EQ(StringAt(pod, {"spec", "hostname"}), name);
    EXPECT_EQ(StringAt(pod, {"spec", "subdomain"}), "web");
    EXPECT_EQ(StringAt(pod, {"metadata", "labels", "statefulset.kubernetes.io/pod-name"}), name);
    EXPECT_EQ(StringAt(pod, {"metadata", "labels", "apps.kubernetes.io/pod-index"}),
              std::to_string(i));
    EXPECT_EQ(StringAt(pod, {"metadata", "labels", "controller-revision-hash"}), revision);
    EXPECT_EQ(StringAt(pod.at("spec").at("volumes").at(0).as_object(),
                       {"persistentVolumeClaim", "claimName"}),
              "data-" + name);
    bj::object claim = Get(std::string(kNs) + "/persistentvolumeclaims/data-" + name);
    EXPECT_EQ(StringAt(claim, {"metadata", "labels", "app"}), "web") << bj::serialize(claim);
    EXPECT_TRUE(HasEvent("web", "SuccessfulCreate",
                         "create Pod " + name + " in StatefulSet web successful"));
    EXPECT_TRUE(
        HasEvent("web", "SuccessfulCreate",
                 "create Claim data-" + name + " Pod " + name + " in StatefulSet web success"));
  }

  // Scale down: web-2 goes first, and web-1 only once web-2 is gone.
  Must("PATCH", std::string(kApps) + "/statefulsets/web", bj::object{{"spec", {{"replicas", 1}}}},
       200, "application/merge-patch+json");
  ASSERT_TRUE(Eventually([&] {
    return List(std::string(kNs) + "/pods", "app%3Dweb").size() == 1 &&
           Int(Get(std::string(kApps) + "/statefulsets/web"), {"status", "replicas"}) == 1;
  }));
  EXPECT_GE(log.IndexOf("DELETED web-2"), 0);
  EXPECT_GT(log.IndexOf("DELETING web-1"), log.IndexOf("DELETED web-2"));
  EXPECT_TRUE(
      HasEvent("web", "SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful"));
  // The claims stay (persistentVolumeClaimRetentionPolicy Retain).
  EXPECT_EQ(Do("GET", std::string(kNs) + "/persistentvolumeclaims/data-web-2").code, 200);
}

TEST_F(WorkloadsTest, StatefulSetRollingUpdateGoesDownToItsPartition) {
  Start({{"n1", {}, {}, false}});
  ASSERT_NE(manager_, nullptr);
  bj::object spec = StatefulSet("db", 3);
  spec["spec"].as_object()["podManagementPolicy"] = "Parallel";
  Must("POST", std::string(kApps) + "/statefulsets", spec, 201);
  bj::object set;
  ASSERT_TRUE(Eventually([&] {
    set = Get(std::string(kApps) + "/statefulsets/db");
    return Int(set, {"status", "readyReplicas"}) == 3;
  })) << bj::serialize(set);
  std::string first = StringAt(set, {"status", "currentRevision"});
  testing::PodEventLog log(admin_config_, std::string(kNs) + "/pods?labelSelector=app%3Ddb");
  log.Start();

  Must("PATCH", std::string(kApps) + "/statefulsets/db",
       bj::object{
           {"spec",
            {{"updateStrategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 1}}}}},
             {"template", {{"spec", {{"containers", bj::array{Container("busybox:2")}}}}}}}}},
       200, "application/strategic-merge-patch+json");
  ASSERT_TRUE(Eventually([&] {
    set = Get(std::string(kApps) + "/statefulsets/db");
    return Int(set, {"status", "updatedReplicas"}) == 2 &&
           Int(set, {"status", "readyReplicas"}) == 3;
  })) << bj::serialize(set);
  std::string second = StringAt(set, {"status", "updateRevision"});
  EXPECT_NE(second, first);
  EXPECT_EQ(StringAt(set, {"status", "currentRevision"}), first);
  EXPECT_EQ(Int(set, {"status", "currentReplicas"}), 1);
  auto revision_of = [&](const std::string& pod) {
    return StringAt(Get(std::string(kNs) + "/pods/" + pod),
                    {"metadata", "labels", "controller-revision-hash"});
  };
  EXPECT_EQ(revision_of("db-0"), first);
  EXPECT_EQ(revision_of("db-1"), second);
  EXPECT_EQ(revision_of("db-2"), second);
  // Highest ordinal first, each after the one before is Ready again.
  EXPECT_LT(log.IndexOf("DELETING db-2"), log.IndexOf("DELETING db-1"));
  EXPECT_GT(log.IndexOf("DELETING db-1"), log.IndexOf("READY db-2"));
  EXPECT_EQ(log.IndexOf("DELETING db-0"), -1);

  // Partition 0 finishes the rollout.
  Must("PATCH", std::string(kApps) + "/statefulsets/db",
       bj::object{{"spec", {{"updateStrategy", {{"rollingUpdate", {{"partition", 0}}}}}}}}, 200,
       "application/merge-patch+json");
  EXPECT_TRUE(Eventually([&] {
    set = Get(std::string(kApps) + "/statefulsets/db");
    return StringAt(set, {"status", "currentRevision"}) == second &&
           Int(set, {"status", "currentReplicas"}) == 3 && revision_of("db-0") == second;
  })) << bj::serialize(set);
}

}  // namespace
}  // namespace berth::controlplane
