#pragma once
// What the workload controller tests use in place of a cluster: API-only
// nodes with labels, taints and cordons (the object, a Ready status, a
// Lease) for the scheduler to bind pods to, and a scripted kubelet
// playing every node's: a bound pod becomes Running and Ready with its
// container statuses (after `ready_after`), then ends Succeeded or Failed
// when `outcome` says so; a pod being deleted is deleted with grace period
// 0, as a kubelet does once its containers stopped; pods labelled
// kFakeKubeletIgnore stay Pending. A recorder keeps the order of pod
// events (added, ready, deleting, deleted) as a watch delivers them.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/work_queue.h"

namespace berth::controlplane::testing {

namespace bj = boost::json;

inline constexpr char kFakeKubeletIgnore[] = "berth.test/not-ready";

struct TestNode {
  std::string name;
  bj::object labels;
  bj::array taints;
  bool unschedulable = false;
};

// Registers an API-only node as a kubelet would; a failure fails the test.
inline void AddTestNode(client::ApiClient& api, const TestNode& n) {
  auto call = [&](const std::string& method, const std::string& url, const bj::object& body,
                  int want, std::string_view type = "application/json") {
    Result<client::ApiResponse> r = api.Do(method, url, bj::serialize(body), type);
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_EQ(r->status, want) << method << " " << url << ": " << r->body;
  };
  bj::object labels = n.labels;
  labels["kubernetes.io/hostname"] = n.name;
  call("POST", "/api/v1/nodes",
       bj::object{{"metadata", bj::object{{"name", n.name}, {"labels", labels}}},
                  {"spec", bj::object{{"taints", n.taints}, {"unschedulable", n.unschedulable}}}},
       201);
  std::string now = FormatRfc3339(WallClockNow().tv_sec);
  bj::object resources{{"cpu", "8"}, {"memory", "16Gi"}, {"pods", "110"}};
  call("PATCH", "/api/v1/nodes/" + n.name + "/status",
       bj::object{{"status",
                   bj::object{{"capacity", resources},
                              {"allocatable", resources},
                              {"conditions", bj::array{bj::object{{"type", "Ready"},
                                                                  {"status", "True"},
                                                                  {"reason", "KubeletReady"},
                                                                  {"lastHeartbeatTime", now},
                                                                  {"lastTransitionTime", now}}}}}}},
       200, "application/merge-patch+json");
  call("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
       bj::object{{"metadata", bj::object{{"name", n.name}}},
                  {"spec", bj::object{{"holderIdentity", n.name},
                                      {"leaseDurationSeconds", 40},
                                      {"renewTime", FormatRfc3339Nano(WallClockNow())}}}},
       201);
}

class ScriptedKubelet {
 public:
  // For a Running pod: "" keeps it running, "Succeeded" or "Failed" ends it.
  using Outcome = std::function<std::string(const bj::object& pod)>;

  explicit ScriptedKubelet(const client::ClientConfig& config)
      : watch_client_(config), api_(config), informer_(watch_client_, "/api/v1/pods", Handlers()) {}
  ~ScriptedKubelet() {
    queue_.ShutDown();
    if (thread_.joinable()) thread_.join();
    informer_.Stop();
  }
  ScriptedKubelet(const ScriptedKubelet&) = delete;
  ScriptedKubelet& operator=(const ScriptedKubelet&) = delete;

  void set_ready_after(std::chrono::milliseconds d) { ready_after_ = d; }
  void set_outcome(Outcome outcome) {
    std::lock_guard lock(mu_);
    outcome_ = std::move(outcome);
  }
  void Start() {
    informer_.Start();
    thread_ = std::thread([this] { Run(); });
  }
  bool Synced() const { return informer_.Synced(); }

 private:
  using Clock = std::chrono::steady_clock;

  client::InformerHandlers Handlers() {
    client::InformerHandlers h;
    h.added = [this](const bj::object& pod) { queue_.Add(client::ObjectKey(pod)); };
    h.updated = [this](const bj::object&, const bj::object& pod) {
      queue_.Add(client::ObjectKey(pod));
    };
    return h;
  }

  void Run() {
    while (std::optional<std::string> key = queue_.Get()) {
      if (Handle(*key)) {
        queue_.Forget(*key);
      } else {
        queue_.AddRateLimited(*key);
      }
      queue_.Done(*key);
    }
  }

  bool Patch(const std::string& url, const bj::object& status) {
    Result<client::ApiResponse> r =
        api_.Do("PATCH", url + "/status", bj::serialize(bj::object{{"status", status}}),
                "application/merge-patch+json");
    return r.ok() && (r->status == 200 || r->status == 404);
  }

  // False: try again.
  bool Handle(const std::string& key) {
    using controllers::StringAt;
    std::optional<bj::object> pod = informer_.Get(key);
    if (!pod) return true;
    if (StringAt(*pod, {"spec", "nodeName"}).empty()) return true;
    std::string url = "/api/v1/namespaces/" + StringAt(*pod, {"metadata", "namespace"}) + "/pods/" +
                      StringAt(*pod, {"metadata", "name"});
    if (controllers::BeingDeleted(*pod)) {
      Result<client::ApiResponse> r = api_.Do("DELETE", url + "?gracePeriodSeconds=0");
      return r.ok() && (r->status == 200 || r->status == 404);
    }
    if (controllers::Has(*pod, {"metadata", "labels", kFakeKubeletIgnore})) return true;
    std::string phase = StringAt(*pod, {"status", "phase"});
    std::string now = FormatRfc3339(WallClockNow().tv_sec);
    auto condition = [&](const char* type, const char* status) {
      return bj::object{{"type", type}, {"status", status}, {"lastTransitionTime", now}};
    };
    const bj::array& containers = pod->at("spec").as_object().at("containers").as_array();
    if (phase == "Pending") {
      std::string uid = StringAt(*pod, {"metadata", "uid"});
      Clock::time_point first = first_seen_.try_emplace(uid, Clock::now()).first->second;
      Clock::duration left = first + ready_after_ - Clock::now();
      if (left > Clock::duration::zero()) {
        queue_.AddAfter(key, left);
        return true;
      }
      bj::array statuses;
      for (const bj::value& c : containers) {
        statuses.push_back(
            bj::object{{"name", StringAt(c.as_object(), {"name"})},
                       {"image", StringAt(c.as_object(), {"image"})},
                       {"imageID", ""},
                       {"ready", true},
                       {"started", true},
                       {"restartCount", 0},
                       {"state", bj::object{{"running", bj::object{{"startedAt", now}}}}}});
      }
      return Patch(url, bj::object{{"phase", "Running"},
                                   {"startTime", now},
                                   {"hostIP", "10.0.0.1"},
                                   {"podIP", "10.244.0.9"},
                                   {"conditions", bj::array{condition("PodScheduled", "True"),
                                                            condition("Initialized", "True"),
                                                            condition("ContainersReady", "True"),
                                                            condition("Ready", "True")}},
                                   {"containerStatuses", std::move(statuses)}});
    }
    if (phase != "Running") return true;
    std::string outcome;
    {
      std::lock_guard lock(mu_);
      if (outcome_) outcome = outcome_(*pod);
    }
    if (outcome.empty()) return true;
    bool ok = outcome == "Succeeded";
    bj::object terminated{{"exitCode", ok ? 0 : 1},
                          {"reason", ok ? "Completed" : "Error"},
                          {"startedAt", now},
                          {"finishedAt", now}};
    bj::array statuses;
    for (const bj::value& c : containers) {
      statuses.push_back(bj::object{{"name", StringAt(c.as_object(), {"name"})},
                                    {"ready", false},
                                    {"started", false},
                                    {"restartCount", 0},
                                    {"state", bj::object{{"terminated", terminated}}}});
    }
    return Patch(url, bj::object{{"phase", outcome},
                                 {"conditions", bj::array{condition("PodScheduled", "True"),
                                                          condition("Ready", "False")}},
                                 {"containerStatuses", std::move(statuses)}});
  }

  client::ApiClient watch_client_;
  client::ApiClient api_;
  controllers::WorkQueue queue_;
  std::chrono::milliseconds ready_after_{0};
  std::mutex mu_;
  Outcome outcome_;
  std::map<std::string, Clock::time_point> first_seen_;  // by uid; the worker thread's
  client::Informer informer_;
  std::thread thread_;
};

// The order in which a watch of pods saw them appear, become Ready, start
// terminating and go: "ADDED web-0", "READY web-0", "DELETING web-2",
// "DELETED web-2".
class PodEventLog {
 public:
  PodEventLog(const client::ClientConfig& config, const std::string& collection)
      : client_(config), informer_(client_, collection, Handlers()) {}
  ~PodEventLog() { informer_.Stop(); }

  void Start() {
    informer_.Start();
    for (int i = 0; i < 250 && !informer_.Synced(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(informer_.Synced());
  }
  std::vector<std::string> Events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // Where `event` first appears; -1 if it does not.
  int IndexOf(const std::string& event) const {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < events_.size(); ++i)
      if (events_[i] == event) return static_cast<int>(i);
    return -1;
  }

 private:
  client::InformerHandlers Handlers() {
    client::InformerHandlers h;
    auto name = [](const bj::object& pod) {
      return controllers::StringAt(pod, {"metadata", "name"});
    };
    h.added = [this, name](const bj::object& pod) {
      Log("ADDED " + name(pod));
      if (controllers::IsPodReady(pod)) Log("READY " + name(pod));
    };
    h.updated = [this, name](const bj::object& old, const bj::object& pod) {
      if (!controllers::IsPodReady(old) && controllers::IsPodReady(pod)) Log("READY " + name(pod));
      if (!controllers::BeingDeleted(old) && controllers::BeingDeleted(pod)) {
        Log("DELETING " + name(pod));
      }
    };
    h.deleted = [this, name](const bj::object& pod) { Log("DELETED " + name(pod)); };
    return h;
  }
  void Log(std::string event) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }

  client::ApiClient client_;
  mutable std::mutex mu_;
  std::vector<std::string> events_;
  client::Informer informer_;
};

}  // namespace berth::controlplane::testing
