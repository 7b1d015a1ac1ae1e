#pragma once
// What workload controller tests need in place of real nodes: API-only
// nodes (the object, Ready status with allocatable, a Lease) for the
// scheduler to bind pods to, and a fake kubelet that plays every node's
// kubelet: a bound pod becomes Running and Ready (with its container
// statuses) at once, and a pod being deleted is finalized (deleted with
// grace period 0), as a kubelet does once its containers stopped. Pods
// labelled kFakeKubeletIgnore are left Pending, never Ready.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <thread>

#include "common/time.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/work_queue.h"

namespace berth::controlplane::testing {

inline constexpr char kFakeKubeletIgnore[] = "berth.test/not-ready";

// Registers an API-only node as a kubelet would; a failure fails the test.
inline void AddApiNode(client::ApiClient& api, const std::string& name) {
  namespace bj = boost::json;
  auto call = [&](const std::string& method, const std::string& url, const bj::object& body,
                  int want, std::string_view type = "application/json") {
    Result<client::ApiResponse> r = api.Do(method, url, bj::serialize(body), type);
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_EQ(r->status, want) << method << " " << url << ": " << r->body;
  };
  call("POST", "/api/v1/nodes",
       bj::object{
           {"metadata",
            bj::object{{"name", name}, {"labels", bj::object{{"kubernetes.io/hostname", name}}}}}},
       201);
  std::string now = FormatRfc3339(WallClockNow().tv_sec);
  bj::object resources{{"cpu", "8"}, {"memory", "16Gi"}, {"pods", "110"}};
  call("PATCH", "/api/v1/nodes/" + name + "/status",
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
       bj::object{{"metadata", bj::object{{"name", name}}},
                  {"spec", bj::object{{"holderIdentity", name},
                                      {"leaseDurationSeconds", 40},
                                      {"renewTime", FormatRfc3339Nano(WallClockNow())}}}},
       201);
}

class FakeKubelet {
 public:
  explicit FakeKubelet(const client::ClientConfig& config)
      : watch_client_(config), api_(config), informer_(watch_client_, "/api/v1/pods", Handlers()) {}
  ~FakeKubelet() {
    queue_.ShutDown();
    if (thread_.joinable()) thread_.join();
    informer_.Stop();
  }
  FakeKubelet(const FakeKubelet&) = delete;
  FakeKubelet& operator=(const FakeKubelet&) = delete;

  void Start() {
    informer_.Start();
    thread_ = std::thread([this] { Run(); });
  }
  bool Synced() const { return informer_.Synced(); }

 private:
  client::InformerHandlers Handlers() {
    client::InformerHandlers h;
    h.added = [this](const boost::json::object& pod) { queue_.Add(client::ObjectKey(pod)); };
    h.updated = [this](const boost::json::object&, const boost::json::object& pod) {
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

  // False: try again.
  bool Handle(const std::string& key) {
    namespace bj = boost::json;
    using controllers::StringAt;
    std::optional<bj::object> pod = informer_.Get(key);
    if (!pod) return true;
    std::string node = StringAt(*pod, {"spec", "nodeName"});
    if (node.empty()) return true;
    std::string url = "/api/v1/namespaces/" + StringAt(*pod, {"metadata", "namespace"}) + "/pods/" +
                      StringAt(*pod, {"metadata", "name"});
    if (controllers::BeingDeleted(*pod)) {
      Result<client::ApiResponse> r = api_.Do("DELETE", url + "?gracePeriodSeconds=0");
      return r.ok() && (r->status == 200 || r->status == 404);
    }
    if (controllers::Has(*pod, {"metadata", "labels", kFakeKubeletIgnore})) return true;
    if (StringAt(*pod, {"status", "phase"}) == "Running") return true;
    std::string now = FormatRfc3339(WallClockNow().tv_sec);
    bj::array statuses;
    if (const bj::value* cs = pod->at("spec").as_object().if_contains("containers");
        cs != nullptr && cs->is_array()) {
      for (const bj::value& c : cs->as_array()) {
        statuses.push_back(
            bj::object{{"name", StringAt(c.as_object(), {"name"})},
                       {"image", StringAt(c.as_object(), {"image"})},
                       {"imageID", ""},
                       {"ready", true},
                       {"started", true},
                       {"restartCount", 0},
                       {"state", bj::object{{"running", bj::object{{"startedAt", now}}}}}});
      }
    }
    auto condition = [&](const char* type) {
      return bj::object{{"type", type}, {"status", "True"}, {"lastTransitionTime", now}};
    };
    bj::object patch{
        {"status",
         bj::object{{"phase", "Running"},
                    {"hostIP", "10.0.0.1"},
                    {"podIP", "10.244.0.1"},
                    {"startTime", now},
                    {"conditions", bj::array{condition("PodScheduled"), condition("Initialized"),
                                             condition("ContainersReady"), condition("Ready")}},
                    {"containerStatuses", std::move(statuses)}}}};
    Result<client::ApiResponse> r =
        api_.Do("PATCH", url + "/status", bj::serialize(patch), "application/merge-patch+json");
    return r.ok() && (r->status == 200 || r->status == 404);
  }

  client::ApiClient watch_client_;
  client::ApiClient api_;
  controllers::WorkQueue queue_;
  client::Informer informer_;
  std::thread thread_;
};

}  // namespace berth::controlplane::testing
