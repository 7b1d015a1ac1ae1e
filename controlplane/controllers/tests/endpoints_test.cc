// The EndpointSlice and Endpoints controllers against a berth server in
// this process, with the controller manager's own certificate. Pods are
// made bound (spec.nodeName) to API-only nodes and their status is set
// by the test, as a kubelet would: no scheduler or kubelet runs.
//
// Acceptance (issue 6): EndpointSlices follow pod readiness within one
// watch round trip, and a Service with named ports resolves them per pod.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/controllers/tests/test_controllers.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;
using std::chrono::milliseconds;

constexpr char kSlices[] = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
constexpr char kPods[] = "/api/v1/namespaces/default/pods";
constexpr char kServices[] = "/api/v1/namespaces/default/services";
constexpr char kEndpoints[] = "/api/v1/namespaces/default/endpoints";

struct Reply {
  int code = 0;
  bj::value body;
};

class EndpointsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    client::ClientConfig admin = AdminConfig();
    api_ = std::make_unique<client::ApiClient>(admin);
    AddNode("n1", "zone-a");
    AddNode("n2", "");
  }
  void TearDown() override {
    if (manager_) manager_->Stop();
  }

  void StartControllers(size_t max_endpoints_per_slice = 100) {
    ControllerManagerOptions options;
    options.controllers = {"endpointslice", "endpoint"};
    options.max_endpoints_per_slice = max_endpoints_per_slice;
    StartTestControllers(*server_, manager_, options);
    ASSERT_NE(manager_, nullptr);
  }

  Reply Do(const std::string& method, const std::string& target, const std::string& body = "",
           std::string_view type = "application/json") {
    Result<client::ApiResponse> r = api_->Do(method, target, body, type);
    EXPECT_TRUE(r.ok()) << method << " " << target << ": " << r.error().str();
    if (!r.ok()) return {};
    return {r->status, r->Json()};
  }
  bj::value Must(const std::string& method, const std::string& target, const bj::object& body,
                 int want, std::string_view type = "application/json") {
    Reply r = Do(method, target, body.empty() ? "" : bj::serialize(body), type);
    EXPECT_EQ(r.code, want) << method << " " << target << ": " << bj::serialize(r.body);
    return r.body;
  }

  void AddNode(const std::string& name, const std::string& zone) {
    bj::object labels{{"kubernetes.io/hostname", name}};
    if (!zone.empty()) labels["topology.kubernetes.io/zone"] = zone;
    Must("POST", "/api/v1/nodes", {{"metadata", bj::object{{"name", name}, {"labels", labels}}}},
         201);
  }

  // A Service selecting app=<app> (none when empty) with `ports`.
  void AddService(const std::string& name, const std::string& app, bj::array ports,
                  bj::object spec_extra = {}, bj::object labels = {}) {
    bj::object spec{{"ports", std::move(ports)}};
    if (!app.empty()) spec["selector"] = bj::object{{"app", app}};
    for (auto& kv : spec_extra)
      spec[kv.key()] = kv.value();
    Must("POST", kServices,
         {{"metadata", bj::object{{"name", name}, {"labels", std::move(labels)}}},
          {"spec", std::move(spec)}},
         201);
  }

  // A pod labelled app=<app>, bound to `node`, whose container declares
  // `ports` (name -> number).
  void AddPod(const std::string& name, const std::string& app, const std::string& node,
              const std::map<std::string, int>& ports = {}) {
    bj::array container_ports;
    for (const auto& [port_name, number] : ports)
      container_ports.push_back(bj::object{{"name", port_name}, {"containerPort", number}});
    bj::object container{{"name", "c"}, {"image", "busybox"}};
    if (!container_ports.empty()) container["ports"] = std::move(container_ports);
    Must("POST", kPods,
         {{"metadata", bj::object{{"name", name}, {"labels", bj::object{{"app", app}}}}},
          {"spec", bj::object{{"nodeName", node},
                              {"terminationGracePeriodSeconds", 30},
                              {"containers", bj::array{std::move(container)}}}}},
         201);
  }

  // What a kubelet reports: Running, the pod's IP, its readiness; the
  // Ready condition's lastTransitionTime.
  std::string SetPodStatus(const std::string& name, const std::string& ip, bool ready) {
    std::string now = FormatRfc3339Nano(WallClockNow());
    bj::object status{{"phase", "Running"},
                      {"conditions", bj::array{bj::object{{"type", "Ready"},
                                                          {"status", ready ? "True" : "False"},
                                                          {"lastTransitionTime", now}}}}};
    if (!ip.empty()) {
      status["podIP"] = ip;
      status["podIPs"] = bj::array{bj::object{{"ip", ip}}};
    }
    Must("PATCH", std::string(kPods) + "/" + name + "/status", {{"status", std::move(status)}}, 200,
         "application/merge-patch+json");
    return now;
  }

  // The EndpointSlices of a Service, as stored.
  std::vector<bj::object> Slices(const std::string& service) {
    Reply r = Do("GET",
                 std::string(kSlices) + "?labelSelector=kubernetes.io%2Fservice-name%3D" + service);
    std::vector<bj::object> out;
    if (r.code != 200) return out;
    for (const bj::value& item : r.body.at("items").as_array())
      out.push_back(item.as_object());
    return out;
  }
  std::vector<bj::object> ManagedSlices(const std::string& service) {
    std::vector<bj::object> out;
    for (bj::object& s : Slices(service)) {
      if (s.at("metadata")
                  .at("labels")
                  .as_object()
                  .if_contains("endpointslice.kubernetes.io/managed-by") != nullptr &&
          s.at("metadata").at("labels").at("endpointslice.kubernetes.io/managed-by") ==
              "endpointslice-controller.k8s.io") {
        out.push_back(std::move(s));
      }
    }
    return out;
  }
  // Pod name -> its endpoint, over the Service's managed slices.
  std::map<std::string, bj::object> SliceEndpoints(const std::string& service) {
    std::map<std::string, bj::object> out;
    for (const bj::object& s : ManagedSlices(service)) {
      for (const bj::value& e : s.at("endpoints").as_array())
        out[std::string(e.at("targetRef").at("name").as_string())] = e.as_object();
    }
    return out;
  }
  bj::value Endpoints(const std::string& service) {
    Reply r = Do("GET", std::string(kEndpoints) + "/" + service);
    return r.code == 200 ? r.body : bj::value();
  }

  template <class Pred>
  static bool Eventually(Pred pred, milliseconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return pred();
  }

  // A watch of the namespace's EndpointSlices from now on.
  std::unique_ptr<client::WatchStream> WatchSlices() {
    Reply list = Do("GET", kSlices);
    std::string rv(list.body.at("metadata").at("resourceVersion").as_string());
    Result<std::unique_ptr<client::WatchStream>> stream =
        api_->Watch(std::string(kSlices) + "?watch=1&resourceVersion=" + rv);
    EXPECT_TRUE(stream.ok()) << stream.error().str();
    return stream.ok() ? std::move(*stream) : nullptr;
  }
  // Reads `stream` until an ADDED or MODIFIED slice satisfies `pred`;
  // false when none did within `limit`.
  static bool NextSliceEvent(client::WatchStream& stream,
                             const std::function<bool(const bj::object&)>& pred,
                             milliseconds limit = std::chrono::seconds(5)) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread watchdog([&] {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, limit, [&] { return done; })) stream.Cancel();
    });
    bool found = false;
    for (;;) {
      Result<std::string> line = stream.NextLine();
      if (!line.ok()) break;
      bj::value event = bj::parse(*line);
      const bj::value& type = event.at("type");
      if ((type == "ADDED" || type == "MODIFIED") && pred(event.at("object").as_object())) {
        found = true;
        break;
      }
    }
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_all();
    watchdog.join();
    return found;
  }

  std::unique_ptr<client::ApiClient> api_;
  std::unique_ptr<ControllerManager> manager_;
};

bj::object TcpPort(const std::string& name, int port, bj::value target) {
  return {{"name", name}, {"port", port}, {"protocol", "TCP"}, {"targetPort", std::move(target)}};
}

// The endpoint of `pod` in `slice` has ready == `ready`.
bool EndpointReady(const bj::object& slice, const std::string& pod, bool ready) {
  const bj::value* endpoints = slice.if_contains("endpoints");
  if (endpoints == nullptr || !endpoints->is_array()) return false;
  for (const bj::value& e : endpoints->as_array()) {
    if (e.at("targetRef").at("name") == pod.c_str()) {
      return e.at("conditions").at("ready") == ready;
    }
  }
  return false;
}

std::vector<int64_t> PortNumbers(const bj::object& slice) {
  std::vector<int64_t> out;
  if (const bj::value* ports = slice.if_contains("ports"); ports && ports->is_array()) {
    for (const bj::value& p : ports->as_array())
      out.push_back(p.at("port").as_int64());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(EndpointsTest, SlicesFollowPodReadinessWithinOneWatchRoundTrip) {
  StartControllers();
  AddService("web", "web", {TcpPort("http", 80, 8080)});
  AddPod("a", "web", "n1");
  SetPodStatus("a", "10.244.1.5", false);
  ASSERT_TRUE(Eventually([&] { return SliceEndpoints("web").contains("a"); }));
  std::vector<bj::object> slices = ManagedSlices("web");
  ASSERT_EQ(slices.size(), 1u);
  const std::string name(slices[0].at("metadata").at("name").as_string());
  const bj::object endpoint = SliceEndpoints("web").at("a");
  EXPECT_EQ(endpoint.at("addresses"), (bj::array{"10.244.1.5"}));
  EXPECT_EQ(endpoint.at("conditions"),
            (bj::object{{"ready", false}, {"serving", false}, {"terminating", false}}));
  EXPECT_EQ(endpoint.at("nodeName"), "n1");
  EXPECT_EQ(endpoint.at("zone"), "zone-a");
  EXPECT_EQ(endpoint.at("targetRef").at("kind"), "Pod");

  for (bool ready : {true, false, true}) {
    std::unique_ptr<client::WatchStream> watch = WatchSlices();
    ASSERT_NE(watch, nullptr);
    auto start = std::chrono::steady_clock::now();
    SetPodStatus("a", "10.244.1.5", ready);
    ASSERT_TRUE(NextSliceEvent(*watch,
                               [&](const bj::object& s) {
                                 return s.at("metadata").at("name") == name.c_str() &&
                                        EndpointReady(s, "a", ready);
                               }))
        << "ready=" << ready << " never reached the slice";
    auto took = std::chrono::steady_clock::now() - start;
    RecordProperty(ready ? "flip_to_ready_ms" : "flip_to_unready_ms",
                   static_cast<int>(std::chrono::duration_cast<milliseconds>(took).count()));
    EXPECT_LT(took, std::chrono::seconds(1))
        << "ready=" << ready << " took " << std::chrono::duration_cast<milliseconds>(took).count()
        << " ms";
  }
  // Updated in place: still the one slice.
  slices = ManagedSlices("web");
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0].at("metadata").at("name"), name.c_str());
}

TEST_F(EndpointsTest, NamedTargetPortsResolvePerPod) {
  StartControllers();
  AddService("api", "api", {TcpPort("http", 80, "http")});
  AddPod("a", "api", "n1", {{"http", 8080}});
  AddPod("b", "api", "n2", {{"http", 9090}});
  SetPodStatus("a", "10.244.1.10", true);
  SetPodStatus("b", "10.244.2.10", true);
  std::map<std::vector<int64_t>, std::set<std::string>> by_ports;
  ASSERT_TRUE(Eventually([&] {
    by_ports.clear();
    for (const bj::object& s : ManagedSlices("api")) {
      for (const bj::value& e : s.at("endpoints").as_array())
        by_ports[PortNumbers(s)].insert(std::string(e.at("targetRef").at("name").as_string()));
    }
    return by_ports.size() == 2;
  })) << "slices never split by port";
  EXPECT_EQ(by_ports[{8080}], (std::set<std::string>{"a"}));
  EXPECT_EQ(by_ports[{9090}], (std::set<std::string>{"b"}));
  for (const bj::object& s : ManagedSlices("api")) {
    const bj::object& port = s.at("ports").as_array()[0].as_object();
    EXPECT_EQ(port.at("name"), "http");
    EXPECT_EQ(port.at("protocol"), "TCP");
  }
  // The Endpoints object: one subset per resolved port.
  ASSERT_TRUE(Eventually([&] {
    bj::value ep = Endpoints("api");
    return ep.is_object() && ep.as_object().contains("subsets") &&
           ep.at("subsets").as_array().size() == 2;
  }));
  std::map<std::string, int64_t> port_of;
  bj::value ep = Endpoints("api");
  for (const bj::value& subset : ep.at("subsets").as_array()) {
    ASSERT_EQ(subset.at("addresses").as_array().size(), 1u);
    port_of[std::string(
        subset.at("addresses").as_array()[0].at("targetRef").at("name").as_string())] =
        subset.at("ports").as_array()[0].at("port").as_int64();
  }
  EXPECT_EQ(port_of, (std::map<std::string, int64_t>{{"a", 8080}, {"b", 9090}}));
}

TEST_F(EndpointsTest, MultiplePortsGroupPodsByWhatTheyResolve) {
  StartControllers();
  AddService("multi", "multi", {TcpPort("http", 80, "http"), TcpPort("metrics", 9100, "metrics")});
  AddPod("full", "multi", "n1", {{"http", 8080}, {"metrics", 9102}});
  AddPod("half", "multi", "n1", {{"http", 8080}});
  SetPodStatus("full", "10.244.1.20", true);
  SetPodStatus("half", "10.244.1.21", true);
  std::map<std::vector<int64_t>, std::set<std::string>> by_ports;
  ASSERT_TRUE(Eventually([&] {
    by_ports.clear();
    for (const bj::object& s : ManagedSlices("multi")) {
      for (const bj::value& e : s.at("endpoints").as_array())
        by_ports[PortNumbers(s)].insert(std::string(e.at("targetRef").at("name").as_string()));
    }
    return by_ports.size() == 2;
  }));
  EXPECT_EQ(by_ports[(std::vector<int64_t>{8080, 9102})], (std::set<std::string>{"full"}));
  EXPECT_EQ(by_ports[{8080}], (std::set<std::string>{"half"}));
}

TEST_F(EndpointsTest, AGracefullyDeletedPodIsTerminatingButStillServing) {
  StartControllers();
  AddService("web", "web", {TcpPort("http", 80, 8080)});
  AddPod("a", "web", "n1");
  SetPodStatus("a", "10.244.1.30", true);
  ASSERT_TRUE(Eventually([&] {
    auto eps = SliceEndpoints("web");
    return eps.contains("a") && eps.at("a").at("conditions").at("ready") == true;
  }));
  ASSERT_TRUE(Eventually([&] {
    bj::value ep = Endpoints("web");
    return ep.is_object() && ep.as_object().contains("subsets");
  }));
  // A bound pod's deletion is graceful: it stays, with a deletionTimestamp.
  Must("DELETE", std::string(kPods) + "/a", {}, 200);
  ASSERT_TRUE(Eventually([&] {
    auto eps = SliceEndpoints("web");
    return eps.contains("a") &&
           eps.at("a").at("conditions") ==
               bj::object{{"ready", false}, {"serving", true}, {"terminating", true}};
  }));
  // The legacy Endpoints leave terminating pods out.
  ASSERT_TRUE(Eventually([&] {
    bj::value ep = Endpoints("web");
    return ep.is_object() && !ep.as_object().contains("subsets");
  })) << bj::serialize(Endpoints("web"));
}

TEST_F(EndpointsTest, SelectorlessServicesAndForeignSlicesAreLeftAlone) {
  StartControllers();
  AddService("manual", "", {TcpPort("http", 80, 8080)});
  bj::value user_slice = Must(
      "POST", kSlices,
      {{"metadata",
        bj::object{{"name", "manual-1"},
                   {"labels", bj::object{{"kubernetes.io/service-name", "manual"},
                                         {"endpointslice.kubernetes.io/managed-by", "staff"}}}}},
       {"addressType", "IPv4"},
       {"endpoints", bj::array{bj::object{{"addresses", bj::array{"192.0.2.1"}}}}},
       {"ports", bj::array{bj::object{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}}},
      201);
  bj::value user_endpoints = Must(
      "POST", kEndpoints,
      {{"metadata", bj::object{{"name", "manual"}}},
       {"subsets", bj::array{bj::object{
                       {"addresses", bj::array{bj::object{{"ip", "192.0.2.1"}}}},
                       {"ports", bj::array{bj::object{{"port", 8080}, {"protocol", "TCP"}}}}}}}},
      201);
  // Another manager's slice for a Service this controller manages.
  bj::value foreign =
      Must("POST", kSlices,
           {{"metadata", bj::object{{"name", "web-extra"},
                                    {"labels", bj::object{{"kubernetes.io/service-name", "web"},
                                                          {"endpointslice.kubernetes.io/managed-by",
                                                           "someone-else"}}}}},
            {"addressType", "IPv4"},
            {"endpoints", bj::array{bj::object{{"addresses", bj::array{"192.0.2.9"}}}}}},
           201);
  AddService("web", "web", {TcpPort("http", 80, 8080)});
  AddPod("a", "web", "n1");
  SetPodStatus("a", "10.244.1.40", true);
  ASSERT_TRUE(Eventually([&] { return SliceEndpoints("web").contains("a"); }));
  // Both Services were queued before "web" got its slice; allow the
  // other worker a moment to finish "manual", then nothing may differ.
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(Must("GET", std::string(kSlices) + "/manual-1", {}, 200), user_slice);
  EXPECT_EQ(Endpoints("manual"), user_endpoints);
  EXPECT_EQ(Must("GET", std::string(kSlices) + "/web-extra", {}, 200), foreign);
  EXPECT_TRUE(ManagedSlices("manual").empty());
}

TEST_F(EndpointsTest, PodsWithoutAnIpAreSkipped) {
  StartControllers();
  AddService("web", "web", {TcpPort("http", 80, 8080)});
  AddPod("pending", "web", "n1");
  AddPod("running", "web", "n2");
  SetPodStatus("running", "10.244.2.50", true);
  ASSERT_TRUE(Eventually([&] { return SliceEndpoints("web").contains("running"); }));
  EXPECT_FALSE(SliceEndpoints("web").contains("pending"));
  ASSERT_TRUE(Eventually([&] {
    bj::value ep = Endpoints("web");
    return ep.is_object() && ep.as_object().contains("subsets");
  }));
  EXPECT_EQ(Endpoints("web").at("subsets").as_array()[0].at("addresses").as_array().size(), 1u);
  // Its IP arrives: it joins.
  SetPodStatus("pending", "10.244.1.51", false);
  ASSERT_TRUE(Eventually([&] { return SliceEndpoints("web").contains("pending"); }));
}

TEST_F(EndpointsTest, TheLegacyEndpointsMirrorTheService) {
  StartControllers();
  AddService("web", "web", {TcpPort("http", 80, 8080)}, {}, {{"team", "blue"}});
  AddService("web-headless", "web", {TcpPort("http", 80, 8080)}, {{"clusterIP", "None"}});
  AddPod("ready", "web", "n1");
  AddPod("unready", "web", "n2");
  SetPodStatus("ready", "10.244.1.60", true);
  SetPodStatus("unready", "10.244.2.60", false);
  bj::object want_subset{
      {"addresses", bj::array{bj::object{{"ip", "10.244.1.60"},
                                         {"nodeName", "n1"},
                                         {"targetRef", bj::object{{"kind", "Pod"},
                                                                  {"namespace", "default"},
                                                                  {"name", "ready"}}}}}},
      {"notReadyAddresses", bj::array{bj::object{{"ip", "10.244.2.60"},
                                                 {"nodeName", "n2"},
                                                 {"targetRef", bj::object{{"kind", "Pod"},
                                                                          {"namespace", "default"},
                                                                          {"name", "unready"}}}}}},
      {"ports", bj::array{bj::object{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}}};
  auto without_uids = [](bj::value ep) {
    for (bj::value& subset : ep.at("subsets").as_array()) {
      for (const char* list : {"addresses", "notReadyAddresses"}) {
        if (bj::value* l = subset.as_object().if_contains(list)) {
          for (bj::value& a : l->as_array())
            a.at("targetRef").as_object().erase("uid");
        }
      }
    }
    return ep.at("subsets");
  };
  ASSERT_TRUE(Eventually([&] {
    bj::value ep = Endpoints("web");
    return ep.is_object() && ep.as_object().contains("subsets") &&
           without_uids(ep) == bj::array{want_subset};
  })) << bj::serialize(Endpoints("web"));
  EXPECT_EQ(Endpoints("web").at("metadata").at("labels"), (bj::object{{"team", "blue"}}));
  // A pod turning Ready: the annotation names its transition time (the
  // earliest trigger since the last sync).
  auto trigger = [&] {
    bj::value ep = Endpoints("web");
    const bj::value* a =
        ep.is_object() ? ep.at("metadata").as_object().if_contains("annotations") : nullptr;
    const bj::value* t =
        a != nullptr
            ? a->as_object().if_contains("endpoints.kubernetes.io/last-change-trigger-time")
            : nullptr;
    return t != nullptr ? std::string(t->as_string()) : std::string();
  };
  std::string became_ready = SetPodStatus("unready", "10.244.2.60", true);
  EXPECT_TRUE(Eventually([&] { return trigger() == became_ready; }))
      << trigger() << " != " << became_ready;

  // Headless: labelled so, on the Endpoints and the slices.
  ASSERT_TRUE(Eventually([&] {
    bj::value hl = Endpoints("web-headless");
    return hl.is_object() && hl.as_object().contains("subsets");
  }));
  EXPECT_EQ(Endpoints("web-headless").at("metadata").at("labels"),
            (bj::object{{"service.kubernetes.io/headless", ""}}));
  ASSERT_TRUE(Eventually([&] { return !ManagedSlices("web-headless").empty(); }));
  for (const bj::object& s : ManagedSlices("web-headless"))
    EXPECT_EQ(s.at("metadata").at("labels").at("service.kubernetes.io/headless"), "");
  for (const bj::object& s : ManagedSlices("web")) {
    EXPECT_EQ(s.at("metadata").at("labels").at("team"), "blue");
    EXPECT_EQ(s.at("metadata").at("ownerReferences").as_array()[0].at("kind"), "Service");
  }
}

TEST_F(EndpointsTest, DeletingTheServiceRemovesItsSlicesAndEndpoints) {
  StartControllers();
  AddService("web", "web", {TcpPort("http", 80, 8080)});
  AddPod("a", "web", "n1");
  SetPodStatus("a", "10.244.1.70", true);
  ASSERT_TRUE(Eventually([&] { return SliceEndpoints("web").contains("a"); }));
  ASSERT_TRUE(Eventually([&] { return Endpoints("web").is_object(); }));
  Must("DELETE", std::string(kServices) + "/web", {}, 200);
  EXPECT_TRUE(Eventually([&] { return Slices("web").empty(); }));
  EXPECT_TRUE(Eventually([&] { return Do("GET", std::string(kEndpoints) + "/web").code == 404; }));
}

TEST_F(EndpointsTest, EndpointsLeftWithoutAServiceGoAtStart) {
  // Left behind while no controller ran: its Service is gone.
  Must("POST", kEndpoints,
       {{"metadata", bj::object{{"name", "orphan"}}},
        {"subsets", bj::array{bj::object{
                        {"addresses", bj::array{bj::object{{"ip", "192.0.2.7"}}}},
                        {"ports", bj::array{bj::object{{"port", 80}, {"protocol", "TCP"}}}}}}}},
       201);
  StartControllers();
  EXPECT_TRUE(
      Eventually([&] { return Do("GET", std::string(kEndpoints) + "/orphan").code == 404; }));
  // The apiserver's own (its Service has no selector) stays.
  EXPECT_EQ(Do("GET", std::string(kEndpoints) + "/kubernetes").code, 200);
}

TEST_F(EndpointsTest, LabelChangesMovePodsBetweenServices) {
  StartControllers();
  AddService("blue", "blue", {TcpPort("http", 80, 8080)});
  AddService("green", "green", {TcpPort("http", 80, 8080)});
  AddPod("a", "blue", "n1");
  SetPodStatus("a", "10.244.1.80", true);
  ASSERT_TRUE(Eventually([&] { return SliceEndpoints("blue").contains("a"); }));
  Must("PATCH", std::string(kPods) + "/a",
       {{"metadata", bj::object{{"labels", bj::object{{"app", "green"}}}}}}, 200,
       "application/merge-patch+json");
  EXPECT_TRUE(Eventually([&] {
    return SliceEndpoints("green").contains("a") && !SliceEndpoints("blue").contains("a");
  }));
}

TEST_F(EndpointsTest, ManySlicesForManyPodsAndEditsArePutBack) {
  StartControllers(2);
  AddService("web", "web", {TcpPort("http", 80, 8080)});
  for (int i = 1; i <= 5; ++i) {
    std::string name = "p" + std::to_string(i);
    AddPod(name, "web", "n1");
    SetPodStatus(name, "10.244.1." + std::to_string(100 + i), true);
  }
  ASSERT_TRUE(Eventually([&] { return SliceEndpoints("web").size() == 5; }));
  std::vector<bj::object> slices = ManagedSlices("web");
  EXPECT_EQ(slices.size(), 3u);
  for (const bj::object& s : slices)
    EXPECT_LE(s.at("endpoints").as_array().size(), 2u);
  // Someone empties a managed slice: the controller puts its endpoints back.
  bj::object edited = slices[0];
  size_t had = edited.at("endpoints").as_array().size();
  edited["endpoints"] = bj::array();
  const std::string name(edited.at("metadata").at("name").as_string());
  Must("PUT", std::string(kSlices) + "/" + name, edited, 200);
  ASSERT_EQ(SliceEndpoints("web").size(), 5 - had);
  EXPECT_TRUE(Eventually([&] { return SliceEndpoints("web").size() == 5; }));
}

TEST_F(EndpointsTest, PodsOnUnknownNodesWaitForTheNodeWithAnEvent) {
  StartControllers();
  AddService("web", "web", {TcpPort("http", 80, 8080)});
  AddPod("a", "web", "ghost");
  SetPodStatus("a", "10.244.9.1", true);
  ASSERT_TRUE(Eventually([&] {
    Reply r = Do("GET",
                 "/api/v1/namespaces/default/events?fieldSelector=reason%3D"
                 "FailedToUpdateEndpointSlices");
    if (r.code != 200) return false;
    for (const bj::value& e : r.body.at("items").as_array()) {
      if (e.at("involvedObject").at("name") == "web" &&
          e.at("involvedObject").at("kind") == "Service" && e.at("type") == "Warning") {
        return true;
      }
    }
    return false;
  }));
  EXPECT_FALSE(SliceEndpoints("web").contains("a"));
  AddNode("ghost", "");
  EXPECT_TRUE(Eventually([&] { return SliceEndpoints("web").contains("a"); }));
}

}  // namespace
}  // namespace berth::controlplane::controllers
