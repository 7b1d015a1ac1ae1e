// The node lifecycle, taint eviction and pod GC controllers against a
// berth server in this process, with the controller manager's identity.
// The test plays the kubelets: it renews the Leases of the nodes it keeps
// alive, as a kubelet does every 10 s, and stops for the node it fails.
// Pods are bound by spec.nodeName; the grace period is 2 s and pods
// tolerate taints for 2 s so that the whole story fits in seconds.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/time.h"
#include "controlplane/controllers/api_time.h"
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/scheduler/scheduler.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

constexpr char kLeases[] = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
constexpr char kPods[] = "/api/v1/namespaces/default/pods";
constexpr auto kGrace = seconds(2);
constexpr auto kMonitorPeriod = milliseconds(200);
constexpr auto kQuarantine = seconds(1);

bj::array Tolerate(const char* key, std::optional<int> seconds) {
  bj::object t{{"key", key}, {"operator", "Exists"}, {"effect", "NoExecute"}};
  if (seconds) t["tolerationSeconds"] = *seconds;
  return {t};
}

class NodeLifecycleTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    client::ClientConfig admin = AdminConfig();
    admin_config_ = admin;
    api_ = std::make_unique<client::ApiClient>(admin);
  }
  void TearDown() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (kubelet_.joinable()) kubelet_.join();
    if (manager_) manager_->Stop();
    if (scheduler_) scheduler_->Stop();
  }

  static ControllerManagerOptions Options() {
    ControllerManagerOptions o;
    o.controllers = {"nodelifecycle", "taint-eviction-controller", "podgc"};
    o.node_lifecycle.monitor_period = kMonitorPeriod;
    o.node_lifecycle.grace = {kGrace, kGrace};
    o.pod_gc.period = milliseconds(200);
    o.pod_gc.quarantine = kQuarantine;
    return o;
  }
  void StartControllers(ControllerManagerOptions options = Options()) {
    StartTestControllers(*server_, manager_, std::move(options));
    ASSERT_NE(manager_, nullptr);
  }
  void StartScheduler() {
    client::ClientConfig config;
    config.port = server_->port();
    config.ca_pem = ca_;
    config.certificate = server_->pki().scheduler;
    scheduler_ = std::make_unique<scheduler::Scheduler>(config);
    scheduler_->Start();
    ASSERT_TRUE(Eventually([&] { return scheduler_->Synced(); }));
  }

  bj::value Call(const std::string& method, const std::string& target, const bj::value& body,
                 int want, std::string_view type = "application/json") {
    Result<client::ApiResponse> r =
        api_->Do(method, target, body.is_null() ? "" : bj::serialize(body), type);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.error().str();
    if (!r.ok()) return nullptr;
    EXPECT_EQ(r->status, want) << method << " " << target << ": " << r->body;
    return r->Json();
  }
  bj::value Get(const std::string& target) {
    Result<client::ApiResponse> r = api_->Do("GET", target);
    if (!r.ok() || r->status != 200) return nullptr;
    return r->Json();
  }
  void MergePatch(const std::string& target, const bj::object& patch) {
    Call("PATCH", target, patch, 200, "application/merge-patch+json");
  }

  // A node as its kubelet registers it: Ready, and its Lease.
  void AddNode(const std::string& name) {
    Call("POST", "/api/v1/nodes",
         bj::object{{"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}}},
         201);
    bj::object resources{{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "110"}};
    MergePatch("/api/v1/nodes/" + name + "/status",
               bj::object{{"status", {{"capacity", resources}, {"allocatable", resources}}}});
    PostReady(name, "True");
    Call("POST", kLeases,
         bj::object{{"metadata", {{"name", name}}},
                    {"spec",
                     {{"holderIdentity", name},
                      {"leaseDurationSeconds", 40},
                      {"renewTime", FormatRfc3339Nano(WallClockNow())}}}},
         201);
    std::lock_guard lock(mu_);
    alive_.insert(name);
  }
  // The kubelet's status update: Ready `status`, heartbeat now.
  void PostReady(const std::string& node, const char* status) {
    std::string now = FormatRfc3339(WallClockNow().tv_sec);
    MergePatch("/api/v1/nodes/" + node + "/status",
               bj::object{{"status",
                           {{"conditions", bj::array{bj::object{{"type", "Ready"},
                                                                {"status", status},
                                                                {"reason", "KubeletReady"},
                                                                {"lastHeartbeatTime", now},
                                                                {"lastTransitionTime", now}}}}}}});
  }
  void SetAlive(const std::string& node, bool alive) {
    std::lock_guard lock(mu_);
    if (alive) {
      alive_.insert(node);
    } else {
      alive_.erase(node);
    }
  }
  // Renews the Leases of the live nodes every 200 ms until the test ends.
  void StartKubelet() {
    kubelet_ = std::thread([this] {
      client::ApiClient api(admin_config_);
      std::unique_lock lock(mu_);
      while (!stopping_) {
        std::set<std::string> alive = alive_;
        lock.unlock();
        for (const std::string& node : alive) {
          bj::object patch{{"spec", {{"renewTime", FormatRfc3339Nano(WallClockNow())}}}};
          (void)api.Do("PATCH", std::string(kLeases) + "/" + node, bj::serialize(patch),
                       "application/merge-patch+json");
        }
        lock.lock();
        cv_.wait_for(lock, milliseconds(200), [this] { return stopping_; });
      }
    });
  }

  // A pod bound to `node`, running and ready as its kubelet would report.
  void AddPod(const std::string& name, const std::string& node, bj::array tolerations = {}) {
    bj::object spec{{"nodeName", node},
                    {"containers", bj::array{bj::object{{"name", "c"}, {"image", "busybox"}}}}};
    if (!tolerations.empty()) spec["tolerations"] = std::move(tolerations);
    Call("POST", kPods, bj::object{{"metadata", {{"name", name}}}, {"spec", spec}}, 201);
    std::string now = FormatRfc3339(WallClockNow().tv_sec);
    MergePatch(std::string(kPods) + "/" + name + "/status",
               bj::object{{"status",
                           {{"phase", "Running"},
                            {"conditions", bj::array{bj::object{{"type", "Ready"},
                                                                {"status", "True"},
                                                                {"lastTransitionTime", now}}}}}}});
  }

  bj::value Node(const std::string& name) { return Get("/api/v1/nodes/" + name); }
  bj::value Pod(const std::string& name) { return Get(std::string(kPods) + "/" + name); }

  static bj::value Condition(const bj::value& obj, const char* type) {
    if (!obj.is_object()) return nullptr;
    const bj::value* status = obj.as_object().if_contains("status");
    const bj::value* list =
        status && status->is_object() ? status->as_object().if_contains("conditions") : nullptr;
    if (list == nullptr || !list->is_array()) return nullptr;
    for (const bj::value& c : list->as_array())
      if (c.at("type") == type) return c;
    return nullptr;
  }
  static std::string ConditionStatus(const bj::value& obj, const char* type) {
    bj::value c = Condition(obj, type);
    return c.is_object() ? std::string(c.at("status").as_string()) : "";
  }
  // The node's taint of `key` and `effect`; null when it has none.
  bj::value Taint(const std::string& node, const char* key, const char* effect) {
    bj::value n = Node(node);
    if (!n.is_object()) return nullptr;
    const bj::value* spec = n.as_object().if_contains("spec");
    const bj::value* taints =
        spec != nullptr && spec->is_object() ? spec->as_object().if_contains("taints") : nullptr;
    if (taints == nullptr || !taints->is_array()) return nullptr;
    for (const bj::value& t : taints->as_array())
      if (t.at("key") == key && t.at("effect") == effect) return t;
    return nullptr;
  }
  bool Evicted(const std::string& pod) {
    bj::value p = Pod(pod);
    return p.is_object() && p.at("metadata").as_object().contains("deletionTimestamp");
  }
  // An event with this reason and message about `object` was recorded.
  bool HasEvent(const std::string& object, const std::string& reason, const std::string& message) {
    bj::value list = Get("/api/v1/namespaces/default/events");
    if (!list.is_object()) return false;
    for (const bj::value& e : list.at("items").as_array()) {
      if (e.at("involvedObject").at("name") == object.c_str() && e.at("reason") == reason.c_str() &&
          e.at("message") == message.c_str()) {
        return true;
      }
    }
    return false;
  }

  template <class Pred>
  static bool Eventually(Pred pred, milliseconds limit = seconds(10)) {
    auto until = Steady::now() + limit;
    while (Steady::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return pred();
  }

  client::ClientConfig admin_config_;
  std::unique_ptr<client::ApiClient> api_;
  std::unique_ptr<ControllerManager> manager_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> alive_;
  bool stopping_ = false;
  std::thread kubelet_;
};

TEST_F(NodeLifecycleTest, ASilentNodeGoesUnknownIsTaintedAndLosesItsPodsAfterTheirSeconds) {
  for (const char* n : {"a", "b", "c"})
    AddNode(n);
  StartKubelet();
  AddPod("short", "c", Tolerate("node.kubernetes.io/unreachable", 2));
  AddPod("usual", "c");  // DefaultTolerationSeconds: 300 s
  AddPod("forever", "c", Tolerate("node.kubernetes.io/unreachable", std::nullopt));
  AddPod("elsewhere", "a");
  StartControllers();
  ASSERT_TRUE(Eventually([&] {
    return HasEvent("c", "RegisteredNode", "Node c event: Registered Node c in Controller");
  }));
  EXPECT_EQ(ConditionStatus(Node("c"), "Ready"), "True");

  auto stopped = Steady::now();
  SetAlive("c", false);
  ASSERT_TRUE(Eventually([&] { return ConditionStatus(Node("c"), "Ready") == "Unknown"; }))
      << bj::serialize(Node("c"));
  // The last renewal was at most 200 ms before the kubelet stopped.
  EXPECT_GE(Steady::now() - stopped, kGrace - milliseconds(250));
  EXPECT_LE(Steady::now() - stopped, kGrace + seconds(2));
  bj::value node = Node("c");
  EXPECT_EQ(Condition(node, "Ready").at("reason"), "NodeStatusUnknown");
  EXPECT_EQ(Condition(node, "Ready").at("message"), "Kubelet stopped posting node status.");
  for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure"}) {
    EXPECT_EQ(ConditionStatus(node, type), "Unknown") << type;
    EXPECT_EQ(Condition(node, type).at("reason"), "NodeStatusNeverUpdated") << type;
  }
  for (const char* healthy : {"a", "b"})
    EXPECT_EQ(ConditionStatus(Node(healthy), "Ready"), "True") << healthy;

  ASSERT_TRUE(Eventually([&] {
    return Taint("c", "node.kubernetes.io/unreachable", "NoExecute").is_object() &&
           Taint("c", "node.kubernetes.io/unreachable", "NoSchedule").is_object();
  })) << bj::serialize(Node("c"));
  bj::value taint = Taint("c", "node.kubernetes.io/unreachable", "NoExecute");
  std::optional<WallTime> added = ParseApiTime(taint.at("timeAdded").as_string());
  ASSERT_TRUE(added.has_value()) << bj::serialize(taint);
  EXPECT_TRUE(
      Taint("c", "node.kubernetes.io/unreachable", "NoSchedule").as_object().contains("timeAdded"));
  EXPECT_FALSE(Taint("a", "node.kubernetes.io/unreachable", "NoExecute").is_object());
  EXPECT_TRUE(HasEvent("c", "NodeNotReady", "Node c status is now: NodeNotReady"));
  ASSERT_TRUE(Eventually([&] {
    for (const char* pod : {"short", "usual", "forever"})
      if (ConditionStatus(Pod(pod), "Ready") != "False") return false;
    return true;
  }));
  EXPECT_EQ(ConditionStatus(Pod("elsewhere"), "Ready"), "True");
  EXPECT_TRUE(HasEvent("usual", "NodeNotReady", "Node is not ready"));

  // "short" tolerates the taint for 2 s from its timeAdded, then goes.
  ASSERT_TRUE(Eventually([&] { return Evicted("short"); }));
  WallTime evicted = WallClock::now();
  EXPECT_GE(evicted, *added + seconds(2));
  EXPECT_LE(evicted, *added + seconds(2) + milliseconds(1500));
  bj::value gone = Pod("short");
  EXPECT_EQ(Condition(gone, "DisruptionTarget").at("reason"), "DeletionByTaintManager");
  EXPECT_EQ(Condition(gone, "DisruptionTarget").at("status"), "True");
  EXPECT_TRUE(Eventually([&] {
    return HasEvent("short", "TaintManagerEviction", "Marking for deletion Pod default/short");
  }));
  EXPECT_FALSE(Evicted("usual"));
  EXPECT_FALSE(Evicted("forever"));
  EXPECT_FALSE(Evicted("elsewhere"));

  // The kubelet is back: Ready, the taints go, "usual" is spared.
  PostReady("c", "True");
  SetAlive("c", true);
  ASSERT_TRUE(Eventually([&] {
    return !Taint("c", "node.kubernetes.io/unreachable", "NoExecute").is_object() &&
           !Taint("c", "node.kubernetes.io/unreachable", "NoSchedule").is_object();
  })) << bj::serialize(Node("c"));
  EXPECT_TRUE(Eventually([&] {
    return HasEvent("usual", "TaintManagerEviction", "Cancelling deletion of Pod default/usual");
  }));
  EXPECT_FALSE(Evicted("usual"));
  EXPECT_EQ(ConditionStatus(Node("c"), "Ready"), "True");
}

TEST_F(NodeLifecycleTest, NotReadyAndOtherNoExecuteTaintsEvictWhatDoesNotTolerateThem) {
  AddNode("a");
  AddNode("b");
  StartKubelet();
  AddPod("impatient", "b", Tolerate("node.kubernetes.io/not-ready", 0));
  AddPod("patient", "b");
  AddPod("plain", "a");
  AddPod("tolerant", "a", Tolerate("example.com/drain", std::nullopt));
  StartControllers();

  // The kubelet says NotReady (its Lease still renewed).
  PostReady("b", "False");
  ASSERT_TRUE(Eventually([&] {
    return Taint("b", "node.kubernetes.io/not-ready", "NoExecute").is_object() &&
           Taint("b", "node.kubernetes.io/not-ready", "NoSchedule").is_object();
  })) << bj::serialize(Node("b"));
  EXPECT_TRUE(
      Taint("b", "node.kubernetes.io/not-ready", "NoExecute").as_object().contains("timeAdded"));
  EXPECT_FALSE(Taint("b", "node.kubernetes.io/unreachable", "NoExecute").is_object());
  EXPECT_TRUE(Eventually([&] { return Evicted("impatient"); }, seconds(2)));
  EXPECT_FALSE(Evicted("patient"));

  // A NoExecute taint of the user's: those not tolerating it go at once,
  // including a pod bound there afterwards.
  MergePatch("/api/v1/nodes/a",
             bj::object{{"spec",
                         {{"taints", bj::array{bj::object{{"key", "example.com/drain"},
                                                          {"effect", "NoExecute"}}}}}}});
  EXPECT_TRUE(Eventually([&] { return Evicted("plain"); }, seconds(2)));
  AddPod("late", "a");
  EXPECT_TRUE(Eventually([&] { return Evicted("late"); }, seconds(2)));
  EXPECT_FALSE(Evicted("tolerant"));
  EXPECT_FALSE(Evicted("patient"));
  // Ready again: the not-ready taints go.
  PostReady("b", "True");
  EXPECT_TRUE(Eventually([&] {
    return !Taint("b", "node.kubernetes.io/not-ready", "NoExecute").is_object() &&
           !Taint("b", "node.kubernetes.io/not-ready", "NoSchedule").is_object();
  }));
}

TEST_F(NodeLifecycleTest, WhenEveryNodeIsDownNothingIsEvicted) {
  AddNode("solo");
  StartKubelet();
  AddPod("p", "solo", Tolerate("node.kubernetes.io/unreachable", 0));
  StartControllers();
  SetAlive("solo", false);
  ASSERT_TRUE(Eventually([&] {
    return ConditionStatus(Node("solo"), "Ready") == "Unknown" &&
           Taint("solo", "node.kubernetes.io/unreachable", "NoSchedule").is_object();
  }));
  // Several monitor and tainting passes later: still no NoExecute taint.
  std::this_thread::sleep_for(5 * kMonitorPeriod);
  EXPECT_FALSE(Taint("solo", "node.kubernetes.io/unreachable", "NoExecute").is_object())
      << bj::serialize(Node("solo"));
  EXPECT_FALSE(Evicted("p"));
}

TEST_F(NodeLifecycleTest, ThePodsOfADeletedNodeAreDeletedAfterTheQuarantine) {
  AddNode("a");
  AddNode("doomed");
  StartKubelet();
  AddPod("running", "doomed");
  AddPod("terminating", "doomed");
  AddPod("stays", "a");
  Call("DELETE", std::string(kPods) + "/terminating", nullptr, 200);
  ASSERT_TRUE(Evicted("terminating"));
  StartControllers();
  SetAlive("doomed", false);
  auto deleted = Steady::now();
  Call("DELETE", "/api/v1/nodes/doomed", nullptr, 200);
  ASSERT_TRUE(Eventually([&] {
    return !Pod("running").is_object() && !Pod("terminating").is_object();
  })) << "pods of a deleted node were left";
  EXPECT_GE(Steady::now() - deleted, kQuarantine);
  EXPECT_TRUE(Pod("stays").is_object());
  EXPECT_FALSE(Evicted("stays"));
}

// Acceptance: a node stops renewing its Lease; it goes Unknown, is
// tainted, its ReplicaSet's pod is evicted after its tolerationSeconds and
// the ReplicaSet's replacement is scheduled onto another node.
TEST_F(NodeLifecycleTest, AReplicaSetsPodOnAFailedNodeIsReplacedOnAnother) {
  for (const char* n : {"a", "b", "c"})
    AddNode(n);
  StartKubelet();
  ControllerManagerOptions options = Options();
  options.controllers.insert("replicaset");
  StartControllers(options);
  StartScheduler();
  Call("POST", "/apis/apps/v1/namespaces/default/replicasets", bj::parse(R"({
      "metadata":{"name":"web"},
      "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
        "template":{"metadata":{"labels":{"app":"web"}},
          "spec":{"containers":[{"name":"c","image":"busybox",
                                 "resources":{"requests":{"cpu":"100m"}}}],
                  "tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists",
                                  "effect":"NoExecute","tolerationSeconds":2}]}}}})"),
       201);
  // The live pods of the ReplicaSet: name -> node.
  auto live = [&] {
    std::map<std::string, std::string> out;
    bj::value list = Get(std::string(kPods) + "?labelSelector=app%3Dweb");
    if (!list.is_object()) return out;
    for (const bj::value& p : list.at("items").as_array()) {
      if (p.at("metadata").as_object().contains("deletionTimestamp")) continue;
      const bj::value* node = p.at("spec").as_object().if_contains("nodeName");
      out[std::string(p.at("metadata").at("name").as_string())] =
          node != nullptr && node->is_string() ? std::string(node->as_string()) : "";
    }
    return out;
  };
  std::string first, failed;
  ASSERT_TRUE(Eventually([&] {
    auto pods = live();
    if (pods.size() != 1 || pods.begin()->second.empty()) return false;
    first = pods.begin()->first;
    failed = pods.begin()->second;
    return true;
  })) << "the ReplicaSet's pod was never scheduled";

  SetAlive(failed, false);
  ASSERT_TRUE(Eventually([&] {
    return Taint(failed, "node.kubernetes.io/unreachable", "NoExecute").is_object();
  })) << bj::serialize(Node(failed));
  ASSERT_TRUE(Eventually([&] { return Evicted(first); }));
  std::string replacement, node;
  ASSERT_TRUE(Eventually([&] {
    auto pods = live();
    if (pods.size() != 1 || pods.contains(first) || pods.begin()->second.empty()) return false;
    replacement = pods.begin()->first;
    node = pods.begin()->second;
    return true;
  })) << "no replacement was scheduled";
  EXPECT_NE(node, failed);
  EXPECT_TRUE(HasEvent(first, "TaintManagerEviction", "Marking for deletion Pod default/" + first));
}

}  // namespace
}  // namespace berth::controlplane::controllers
