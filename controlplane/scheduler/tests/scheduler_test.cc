// The scheduler against a berth server in this process, with three
// API-only nodes whose status and Leases the test keeps as a kubelet
// would: pods land where the filters and scores say, an unschedulable pod
// gets FailedScheduling with per-reason counts and the PodScheduled=False
// condition, and it is placed as soon as a node that fits appears.

#include "controlplane/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/time.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::scheduler {
namespace {

namespace bj = boost::json;
using client::ApiClient;
using client::ClientConfig;

struct NodeSpec {
  std::string name;
  std::string cpu, memory;
  bj::object labels;
  bj::array taints;
};

class SchedulerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    ClientConfig admin = AdminConfig();
    api_ = std::make_unique<ApiClient>(admin);
    ClientConfig own = admin;
    own.certificate = server_->pki().scheduler;  // its RBAC role, not the admin's
    SchedulerOptions options;
    options.queue.initial_backoff = std::chrono::milliseconds(100);
    options.queue.max_backoff = std::chrono::milliseconds(500);
    scheduler_ = std::make_unique<Scheduler>(own, options);
  }
  void TearDown() override {
    if (scheduler_) scheduler_->Stop();
  }

  bj::value Call(const std::string& method, const std::string& target, const bj::value& body,
                 int want, std::string_view type = "application/json") {
    auto r = api_->Do(method, target, body.is_null() ? "" : bj::serialize(body), type);
    EXPECT_TRUE(r.ok()) << r.error().str();
    if (!r.ok()) return nullptr;
    EXPECT_EQ(r->status, want) << method << " " << target << ": " << r->body;
    return r->Json();
  }

  // A node as a kubelet registers it: the object, its status (capacity,
  // allocatable, Ready) and its Lease.
  void AddNode(const NodeSpec& n) {
    bj::object labels = n.labels;
    labels["kubernetes.io/hostname"] = n.name;
    Call("POST", "/api/v1/nodes",
         bj::object{{"metadata", bj::object{{"name", n.name}, {"labels", labels}}},
                    {"spec", bj::object{{"taints", n.taints}}}},
         201);
    std::string now = FormatRfc3339(WallClockNow().tv_sec);
    bj::object resources{{"cpu", n.cpu}, {"memory", n.memory}, {"pods", "110"}};
    Call("PATCH", "/api/v1/nodes/" + n.name + "/status",
         bj::object{{"status", bj::object{{"capacity", resources},
                                          {"allocatable", resources},
                                          {"conditions",
                                           bj::array{bj::object{{"type", "Ready"},
                                                                {"status", "True"},
                                                                {"reason", "KubeletReady"},
                                                                {"lastHeartbeatTime", now},
                                                                {"lastTransitionTime", now}}}}}}},
         200, "application/merge-patch+json");
    Call("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
         bj::object{{"metadata", bj::object{{"name", n.name}}},
                    {"spec", bj::object{{"holderIdentity", n.name},
                                        {"leaseDurationSeconds", 40},
                                        {"renewTime", FormatRfc3339Nano(WallClockNow())}}}},
         201);
  }

  void AddPod(const std::string& name, bj::object spec_extra, const std::string& cpu = "100m",
              bj::object labels = {}) {
    bj::object spec{
        {"containers",
         bj::array{bj::object{
             {"name", "c"},
             {"image", "busybox"},
             {"resources",
              bj::object{{"requests", bj::object{{"cpu", cpu}, {"memory", "64Mi"}}}}}}}}};
    for (auto& kv : spec_extra)
      spec[kv.key()] = kv.value();
    Call("POST", "/api/v1/namespaces/default/pods",
         bj::object{{"metadata", bj::object{{"name", name}, {"labels", labels}}}, {"spec", spec}},
         201);
  }

  bj::object GetPod(const std::string& name) {
    bj::value v = Call("GET", "/api/v1/namespaces/default/pods/" + name, nullptr, 200);
    return v.is_object() ? v.as_object() : bj::object{};
  }

  std::string NodeOf(const std::string& pod) {
    bj::object p = GetPod(pod);
    const bj::value* n =
        p.contains("spec") ? p["spec"].as_object().if_contains("nodeName") : nullptr;
    return n && n->is_string() ? std::string(n->as_string()) : "";
  }

  // Waits (up to 10 s) for the pod to be bound; its node.
  std::string WaitBound(const std::string& pod) {
    for (int i = 0; i < 200; ++i) {
      std::string node = NodeOf(pod);
      if (!node.empty()) return node;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
  }

  // The messages of the pod's events with `reason`, waiting up to 10 s for one.
  std::vector<std::string> EventMessages(const std::string& pod, const std::string& reason) {
    std::vector<std::string> out;
    for (int i = 0; i < 200 && out.empty(); ++i) {
      bj::value list = Call(
          "GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D" + pod,
          nullptr, 200);
      for (const bj::value& e : list.as_object()["items"].as_array()) {
        if (e.at("reason").as_string() == reason) out.emplace_back(e.at("message").as_string());
      }
      if (out.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return out;
  }

  void StartScheduler() {
    scheduler_->Start();
    for (int i = 0; i < 200 && !scheduler_->Synced(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(scheduler_->Synced());
  }

  void ThreeNodes() {
    AddNode({"small", "1", "2Gi", bj::object{{"zone", "a"}, {"disk", "ssd"}}, {}});
    AddNode({"big", "8", "16Gi", bj::object{{"zone", "b"}}, {}});
    AddNode(
        {"gpu", "4", "8Gi", bj::object{{"zone", "b"}, {"gpu", "true"}},
         bj::array{bj::object{{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}}}});
  }

  std::unique_ptr<ApiClient> api_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, PodsLandWhereFiltersAndScoresSay) {
  ThreeNodes();
  StartScheduler();
  // Least allocated and balanced: an untainted pod with no constraints
  // goes to the emptiest node, "big" (small would be 10% full on cpu).
  AddPod("anywhere", {});
  EXPECT_EQ(WaitBound("anywhere"), "big");
  // Only "big" has 2 free cpus without an untolerated taint.
  AddPod("needs-cpu", {}, "2");
  // nodeSelector picks "small" although "big" scores higher.
  AddPod("wants-ssd", bj::object{{"nodeSelector", bj::object{{"disk", "ssd"}}}});
  // Tolerates the taint and requires the gpu label.
  AddPod(
      "gpu-job",
      bj::object{
          {"tolerations", bj::array{bj::object{{"key", "dedicated"},
                                               {"operator", "Equal"},
                                               {"value", "gpu"},
                                               {"effect", "NoSchedule"}}}},
          {"affinity",
           bj::object{{"nodeAffinity",
                       bj::object{{"requiredDuringSchedulingIgnoredDuringExecution",
                                   bj::object{{"nodeSelectorTerms",
                                               bj::array{bj::object{
                                                   {"matchExpressions",
                                                    bj::array{bj::object{
                                                        {"key", "gpu"},
                                                        {"operator", "In"},
                                                        {"values", bj::array{"true"}}}}}}}}}}}}}}});
  EXPECT_EQ(WaitBound("needs-cpu"), "big");
  EXPECT_EQ(WaitBound("wants-ssd"), "small");
  EXPECT_EQ(WaitBound("gpu-job"), "gpu");
  std::vector<std::string> scheduled = EventMessages("needs-cpu", "Scheduled");
  ASSERT_FALSE(scheduled.empty());
  EXPECT_EQ(scheduled[0], "Successfully assigned default/needs-cpu to big");
}

TEST_F(SchedulerTest, AntiAffinitySpreadsAndHostPortsConflict) {
  ThreeNodes();
  StartScheduler();
  bj::object anti{
      {"affinity",
       bj::object{{"podAntiAffinity",
                   bj::object{{"requiredDuringSchedulingIgnoredDuringExecution",
                               bj::array{bj::object{
                                   {"labelSelector",
                                    bj::object{{"matchLabels", bj::object{{"app", "db"}}}}},
                                   {"topologyKey", "kubernetes.io/hostname"}}}}}}}}};
  AddPod("db-0", anti, "100m", bj::object{{"app", "db"}});
  std::string first = WaitBound("db-0");
  ASSERT_FALSE(first.empty());
  AddPod("db-1", anti, "100m", bj::object{{"app", "db"}});
  std::string second = WaitBound("db-1");
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first, second);
  EXPECT_NE(second, "gpu");
  // Both untainted nodes hold a db now: a third has nowhere to go.
  AddPod("db-2", anti, "100m", bj::object{{"app", "db"}});
  std::vector<std::string> failed = EventMessages("db-2", "FailedScheduling");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0],
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 "
            "node(s) didn't match pod anti-affinity rules.");

  auto port = [](const std::string& zone) {
    return bj::object{
        {"nodeSelector", bj::object{{"zone", zone}}},
        {"containers",
         bj::array{bj::object{
             {"name", "c"},
             {"image", "busybox"},
             {"ports", bj::array{bj::object{{"containerPort", 80}, {"hostPort", 8080}}}}}}}};
  };
  AddPod("web-0", port("a"));
  EXPECT_EQ(WaitBound("web-0"), "small");
  AddPod("web-1", port("a"));
  failed = EventMessages("web-1", "FailedScheduling");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0],
            "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod "
            "ports, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had "
            "untolerated taint {dedicated: gpu}.");
}

TEST_F(SchedulerTest, UnschedulablePodIsPlacedWhenAFittingNodeAppears) {
  ThreeNodes();
  StartScheduler();
  AddPod("huge", {}, "32");
  std::vector<std::string> failed = EventMessages("huge", "FailedScheduling");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0],
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 "
            "Insufficient cpu.");
  // The condition kubectl shows under Conditions, with the same message.
  bool condition = false;
  for (int i = 0; i < 100 && !condition; ++i) {
    bj::object pod = GetPod("huge");
    if (const bj::value* conds = pod["status"].as_object().if_contains("conditions")) {
      for (const bj::value& c : conds->as_array()) {
        condition |= c.at("type") == "PodScheduled" && c.at("status") == "False" &&
                     c.at("reason") == "Unschedulable" && c.at("message").as_string() == failed[0];
      }
    }
    if (!condition) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(condition);
  EXPECT_EQ(NodeOf("huge"), "");

  auto t0 = std::chrono::steady_clock::now();
  AddNode({"huge-node", "64", "256Gi", {}, {}});
  EXPECT_EQ(WaitBound("huge"), "huge-node");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2))
      << "placed on the node event, not on a periodic retry";
}

TEST_F(SchedulerTest, FreedResourcesLetAWaitingPodIn) {
  AddNode({"only", "1", "2Gi", {}, {}});
  StartScheduler();
  AddPod("first", {}, "800m");
  ASSERT_EQ(WaitBound("first"), "only");
  AddPod("second", {}, "800m");
  std::vector<std::string> failed = EventMessages("second", "FailedScheduling");
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(failed[0], "0/1 nodes are available: 1 Insufficient cpu.");
  Call("DELETE", "/api/v1/namespaces/default/pods/first", bj::object{{"gracePeriodSeconds", 0}},
       200);
  EXPECT_EQ(WaitBound("second"), "only");
}

TEST_F(SchedulerTest, PodsForOtherSchedulersAreLeftAlone) {
  AddNode({"only", "1", "2Gi", {}, {}});
  StartScheduler();
  AddPod("theirs", bj::object{{"schedulerName", "someone-else"}});
  AddPod("ours", {});
  EXPECT_EQ(WaitBound("ours"), "only");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(NodeOf("theirs"), "");
}

}  // namespace
}  // namespace berth::controlplane::scheduler
