// The endpoint controllers' decisions without a server: which slices a
// Service's pods need (grouping by resolved ports, the per-slice limit,
// updates in place, the placeholder, owners, address types, unknown
// nodes), the Endpoints subsets (repacking, readiness, truncation),
// named port resolution, and the trigger time.

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/controllers/endpoints_subsets.h"
#include "controlplane/controllers/endpointslice_reconciler.h"
#include "controlplane/controllers/endpointslice_tracker.h"
#include "controlplane/controllers/service_ports.h"
#include "controlplane/controllers/trigger_time_tracker.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

bj::object Service(bj::array ports, bj::object extra_spec = {}) {
  bj::object spec{{"selector", bj::object{{"app", "web"}}},
                  {"clusterIP", "10.96.0.10"},
                  {"ipFamilies", bj::array{"IPv4"}},
                  {"ports", std::move(ports)}};
  for (auto& kv : extra_spec)
    spec[kv.key()] = kv.value();
  return {{"metadata", bj::object{{"name", "web"},
                                  {"namespace", "default"},
                                  {"uid", "svc-uid"},
                                  {"labels", bj::object{{"tier", "front"}}}}},
          {"spec", std::move(spec)}};
}

bj::object HttpPort(bj::value target) {
  return {{"name", "http"}, {"port", 80}, {"protocol", "TCP"}, {"targetPort", std::move(target)}};
}

bj::object Pod(const std::string& name, const std::string& ip, bool ready = true,
               const std::map<std::string, int>& container_ports = {}) {
  bj::array ports;
  for (const auto& [port_name, number] : container_ports)
    ports.push_back(
        bj::object{{"name", port_name}, {"containerPort", number}, {"protocol", "TCP"}});
  bj::object status{
      {"phase", "Running"},
      {"conditions", bj::array{bj::object{{"type", "Ready"},
                                          {"status", ready ? "True" : "False"},
                                          {"lastTransitionTime", "2025-01-01T00:00:00Z"}}}}};
  if (!ip.empty()) {
    status["podIP"] = ip;
    status["podIPs"] = bj::array{bj::object{{"ip", ip}}};
  }
  return {
      {"metadata", bj::object{{"name", name}, {"namespace", "default"}, {"uid", name + "-uid"}}},
      {"spec", bj::object{{"nodeName", "n1"},
                          {"containers",
                           bj::array{bj::object{{"name", "c"}, {"ports", std::move(ports)}}}}}},
      {"status", std::move(status)}};
}

bj::object Terminating(bj::object pod) {
  pod["metadata"].as_object()["deletionTimestamp"] = "2025-01-01T00:00:30Z";
  return pod;
}

bj::object OnNode(bj::object pod, const std::string& node) {
  pod["spec"].as_object()["nodeName"] = node;
  return pod;
}

NodeLookup Nodes(const std::map<std::string, std::string>& zones) {
  return [zones](const std::string& name) -> std::optional<bj::object> {
    auto it = zones.find(name);
    if (it == zones.end()) return std::nullopt;
    bj::object labels;
    if (!it->second.empty()) labels["topology.kubernetes.io/zone"] = it->second;
    return bj::object{{"metadata", bj::object{{"name", name}, {"labels", labels}}}};
  };
}

// The plan's slices as the server would store them: named, versioned.
std::vector<bj::object> Stored(std::vector<bj::object> slices) {
  int n = 0;
  for (bj::object& s : slices) {
    bj::object& meta = s["metadata"].as_object();
    if (!meta.contains("name")) meta["name"] = "web-" + std::to_string(++n);
    meta["uid"] = std::string(meta["name"].as_string()) + "-uid";
    meta["resourceVersion"] = "7";
  }
  return slices;
}

std::vector<std::string> EndpointNames(const bj::object& slice) {
  std::vector<std::string> names;
  for (const bj::value& e : slice.at("endpoints").as_array())
    names.emplace_back(e.at("targetRef").at("name").as_string());
  return names;
}

const bj::value& EndpointOf(const bj::object& slice, const std::string& pod) {
  for (const bj::value& e : slice.at("endpoints").as_array())
    if (e.at("targetRef").at("name") == pod.c_str()) return e;
  static const bj::value kNone;
  ADD_FAILURE() << "no endpoint for " << pod << " in " << bj::serialize(slice);
  return kNone;
}

TEST(EndpointSlicePlan, NamedTargetPortsResolvePerPodIntoSeparateSlices) {
  bj::object svc = Service({HttpPort("http")});
  std::vector<bj::object> pods = {Pod("a", "10.0.0.1", true, {{"http", 8080}}),
                                  Pod("b", "10.0.0.2", true, {{"http", 9090}}),
                                  Pod("c", "10.0.0.3", true, {{"http", 8080}})};
  EndpointSlicePlan plan = PlanEndpointSlices(svc, pods, {}, Nodes({{"n1", "z1"}}), 100);
  ASSERT_EQ(plan.create.size(), 2u);
  EXPECT_TRUE(plan.update.empty());
  EXPECT_TRUE(plan.errors.empty());
  std::map<int64_t, std::vector<std::string>> by_port;
  for (const bj::object& s : plan.create) {
    ASSERT_EQ(s.at("ports").as_array().size(), 1u);
    const bj::object& port = s.at("ports").as_array()[0].as_object();
    EXPECT_EQ(port.at("name"), "http");
    EXPECT_EQ(port.at("protocol"), "TCP");
    by_port[port.at("port").as_int64()] = EndpointNames(s);
    EXPECT_EQ(s.at("addressType"), "IPv4");
    const bj::object& meta = s.at("metadata").as_object();
    EXPECT_EQ(meta.at("generateName"), "web-");
    EXPECT_EQ(meta.at("labels"), (bj::object{{"tier", "front"},
                                             {"kubernetes.io/service-name", "web"},
                                             {"endpointslice.kubernetes.io/managed-by",
                                              "endpointslice-controller.k8s.io"}}));
    const bj::object& owner = meta.at("ownerReferences").as_array()[0].as_object();
    EXPECT_EQ(owner.at("uid"), "svc-uid");
    EXPECT_EQ(owner.at("controller"), true);
  }
  EXPECT_EQ(by_port[8080], (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(by_port[9090], (std::vector<std::string>{"b"}));
  const bj::value& a = EndpointOf(plan.create[0], "a");
  EXPECT_EQ(a.at("zone"), "z1");
  EXPECT_EQ(a.at("nodeName"), "n1");
  EXPECT_EQ(a.at("addresses"), (bj::array{"10.0.0.1"}));
  EXPECT_EQ(a.at("targetRef").at("uid"), "a-uid");
}

TEST(EndpointSlicePlan, SlicesHoldAtMostTheLimit) {
  bj::object svc = Service({HttpPort(8080)});
  std::vector<bj::object> pods;
  for (int i = 1; i <= 5; ++i)
    pods.push_back(Pod("p" + std::to_string(i), "10.0.0." + std::to_string(i)));
  EndpointSlicePlan plan = PlanEndpointSlices(svc, pods, {}, Nodes({{"n1", ""}}), 2);
  ASSERT_EQ(plan.create.size(), 3u);
  size_t total = 0;
  for (const bj::object& s : plan.create) {
    EXPECT_LE(s.at("endpoints").as_array().size(), 2u);
    total += s.at("endpoints").as_array().size();
  }
  EXPECT_EQ(total, 5u);
}

TEST(EndpointSlicePlan, AReadinessChangeUpdatesTheSliceInPlace) {
  bj::object svc = Service({HttpPort(8080)});
  std::vector<bj::object> pods = {Pod("a", "10.0.0.1", false), Pod("b", "10.0.0.2", true)};
  std::vector<bj::object> existing =
      Stored(PlanEndpointSlices(svc, pods, {}, Nodes({{"n1", ""}}), 100).create);
  ASSERT_EQ(existing.size(), 1u);
  // Nothing changed: nothing to write.
  EndpointSlicePlan same = PlanEndpointSlices(svc, pods, existing, Nodes({{"n1", ""}}), 100);
  EXPECT_TRUE(same.create.empty() && same.update.empty() && same.remove.empty());

  pods[0] = Pod("a", "10.0.0.1", true);
  EndpointSlicePlan plan = PlanEndpointSlices(svc, pods, existing, Nodes({{"n1", ""}}), 100);
  EXPECT_TRUE(plan.create.empty());
  EXPECT_TRUE(plan.remove.empty());
  ASSERT_EQ(plan.update.size(), 1u);
  EXPECT_EQ(plan.update[0].at("metadata").at("name"), "web-1");
  EXPECT_EQ(plan.update[0].at("metadata").at("resourceVersion"), "7");
  EXPECT_EQ(EndpointOf(plan.update[0], "a").at("conditions").at("ready"), true);
}

TEST(EndpointSlicePlan, TerminatingPodsAreServingButNotReady) {
  bj::object svc = Service({HttpPort(8080)});
  EndpointSlicePlan plan =
      PlanEndpointSlices(svc, {Terminating(Pod("a", "10.0.0.1"))}, {}, Nodes({{"n1", ""}}), 100);
  ASSERT_EQ(plan.create.size(), 1u);
  EXPECT_EQ(EndpointOf(plan.create[0], "a").at("conditions"),
            (bj::object{{"ready", false}, {"serving", true}, {"terminating", true}}));
  // publishNotReadyAddresses: ready whatever the pod says.
  bj::object publish = Service({HttpPort(8080)}, {{"publishNotReadyAddresses", true}});
  plan = PlanEndpointSlices(publish, {Pod("b", "10.0.0.2", false)}, {}, Nodes({{"n1", ""}}), 100);
  ASSERT_EQ(plan.create.size(), 1u);
  EXPECT_EQ(EndpointOf(plan.create[0], "b").at("conditions"),
            (bj::object{{"ready", true}, {"serving", false}, {"terminating", false}}));
}

TEST(EndpointSlicePlan, AServiceWithoutEndpointsKeepsOnePlaceholder) {
  bj::object svc = Service({HttpPort(8080)});
  // A pod without an IP is no endpoint.
  EndpointSlicePlan plan = PlanEndpointSlices(svc, {Pod("a", "")}, {}, Nodes({{"n1", ""}}), 100);
  ASSERT_EQ(plan.create.size(), 1u);
  EXPECT_TRUE(plan.create[0].at("endpoints").as_array().empty());
  EXPECT_FALSE(plan.create[0].contains("ports"));
  std::vector<bj::object> existing = Stored(plan.create);
  plan = PlanEndpointSlices(svc, {}, existing, Nodes({{"n1", ""}}), 100);
  EXPECT_TRUE(plan.create.empty() && plan.update.empty() && plan.remove.empty());
  // The first endpoint reuses the placeholder rather than replacing it.
  plan = PlanEndpointSlices(svc, {Pod("a", "10.0.0.1")}, existing, Nodes({{"n1", ""}}), 100);
  EXPECT_TRUE(plan.create.empty());
  EXPECT_TRUE(plan.remove.empty());
  ASSERT_EQ(plan.update.size(), 1u);
  EXPECT_EQ(plan.update[0].at("metadata").at("name"), "web-1");
  EXPECT_EQ(EndpointNames(plan.update[0]), (std::vector<std::string>{"a"}));
}

TEST(EndpointSlicePlan, SlicesOfAnotherServiceUidOrFamilyGo) {
  bj::object svc = Service({HttpPort(8080)});
  std::vector<bj::object> existing =
      Stored(PlanEndpointSlices(svc, {Pod("a", "10.0.0.1")}, {}, Nodes({{"n1", ""}}), 100).create);
  existing[0]["metadata"].as_object()["ownerReferences"].as_array()[0].as_object()["uid"] = "old";
  bj::object v6 = existing[0];
  v6["addressType"] = "IPv6";
  v6["metadata"].as_object()["name"] = "web-v6";
  existing.push_back(v6);
  EndpointSlicePlan plan =
      PlanEndpointSlices(svc, {Pod("a", "10.0.0.1")}, existing, Nodes({{"n1", ""}}), 100);
  EXPECT_EQ(plan.create.size(), 1u);
  ASSERT_EQ(plan.remove.size(), 2u);
  EXPECT_TRUE(plan.update.empty());
}

TEST(EndpointSlicePlan, PodsOnUnknownNodesAreLeftOutWithAnError) {
  bj::object svc = Service({HttpPort(8080)});
  EndpointSlicePlan plan =
      PlanEndpointSlices(svc, {OnNode(Pod("a", "10.0.0.1"), "gone"), Pod("b", "10.0.0.2")}, {},
                         Nodes({{"n1", ""}}), 100);
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_NE(plan.errors[0].find("Node gone Not Found"), std::string::npos) << plan.errors[0];
  ASSERT_EQ(plan.create.size(), 1u);
  EXPECT_EQ(EndpointNames(plan.create[0]), (std::vector<std::string>{"b"}));
}

TEST(EndpointSlicePlan, LeftoverEndpointsFillTheUnchangedSliceClosestToFull) {
  bj::object svc = Service({HttpPort(8080)});
  std::vector<bj::object> pods;
  for (int i = 1; i <= 5; ++i)
    pods.push_back(Pod("p" + std::to_string(i), "10.0.0." + std::to_string(i)));
  // Slices of 3 and 2 (limit 4): a new pod goes to the fuller one.
  std::vector<bj::object> existing =
      Stored(PlanEndpointSlices(svc, pods, {}, Nodes({{"n1", ""}}), 3).create);
  ASSERT_EQ(existing.size(), 2u);
  pods.push_back(Pod("p6", "10.0.0.6"));
  EndpointSlicePlan plan = PlanEndpointSlices(svc, pods, existing, Nodes({{"n1", ""}}), 4);
  EXPECT_TRUE(plan.create.empty());
  ASSERT_EQ(plan.update.size(), 1u);
  EXPECT_EQ(plan.update[0].at("endpoints").as_array().size(), 4u);
}

TEST(FindPort, NumbersStandNamesAreLookedUpByProtocol) {
  bj::object pod = Pod("a", "10.0.0.1", true, {{"http", 8080}});
  EXPECT_EQ(FindPort(pod, HttpPort(9000)), 9000);
  EXPECT_EQ(FindPort(pod, HttpPort("http")), 8080);
  EXPECT_EQ(FindPort(pod, HttpPort("metrics")), std::nullopt);
  bj::object udp = HttpPort("http");
  udp["protocol"] = "UDP";
  EXPECT_EQ(FindPort(pod, udp), std::nullopt);
  // Sidecars (restartable init containers) count; other init containers do not.
  bj::object& spec = pod["spec"].as_object();
  spec["initContainers"] = bj::array{
      bj::object{{"name", "init"},
                 {"ports", bj::array{bj::object{{"name", "metrics"}, {"containerPort", 1}}}}},
      bj::object{{"name", "side"},
                 {"restartPolicy", "Always"},
                 {"ports", bj::array{bj::object{{"name", "metrics"}, {"containerPort", 2}}}}}};
  EXPECT_EQ(FindPort(pod, HttpPort("metrics")), 2);
}

TEST(EndpointSubsets, AddressesServingTheSamePortsShareASubset) {
  bj::array ports{
      HttpPort("http"),
      bj::object{{"name", "metrics"}, {"port", 9100}, {"protocol", "TCP"}, {"targetPort", 9100}}};
  bj::object svc = Service(ports);
  std::vector<bj::object> pods = {
      Pod("a", "10.0.0.1", true, {{"http", 8080}}), Pod("b", "10.0.0.2", false, {{"http", 8080}}),
      Pod("c", "10.0.0.3", true, {{"http", 9090}}), Pod("d", "", true, {{"http", 8080}})};
  pods.push_back(Terminating(Pod("e", "10.0.0.5", true, {{"http", 8080}})));
  bj::array subsets = EndpointSubsets(svc, pods);
  // Port -> "ready IPs | not ready IPs": a and b serve 8080, c 9090, all
  // three 9100; d (no IP) and e (terminating) are left out.
  std::map<int64_t, std::string> by_port;
  for (const bj::value& s : subsets) {
    std::string who;
    for (const char* list : {"addresses", "notReadyAddresses"}) {
      if (const bj::value* l = s.as_object().if_contains(list)) {
        for (const bj::value& a : l->as_array())
          who += std::string(a.at("ip").as_string()) + " ";
      }
      who += "|";
    }
    for (const bj::value& p : s.at("ports").as_array())
      by_port[p.at("port").as_int64()] = who;
  }
  EXPECT_EQ(by_port, (std::map<int64_t, std::string>{{8080, "10.0.0.1 |10.0.0.2 |"},
                                                     {9090, "10.0.0.3 ||"},
                                                     {9100, "10.0.0.1 10.0.0.3 |10.0.0.2 |"}}))
      << bj::serialize(subsets);
  ASSERT_EQ(subsets.size(), 3u);
  const bj::object& first = subsets[0].as_object();
  EXPECT_EQ(first.at("addresses").as_array()[0].at("nodeName"), "n1");
  EXPECT_EQ(
      first.at("addresses").as_array()[0].at("targetRef"),
      (bj::object{{"kind", "Pod"}, {"namespace", "default"}, {"name", "a"}, {"uid", "a-uid"}}));
  // Two ports served by the same addresses share one subset.
  bj::object same = Service(bj::array{
      HttpPort(8080),
      bj::object{{"name", "metrics"}, {"port", 9100}, {"protocol", "TCP"}, {"targetPort", 9100}}});
  bj::array shared = EndpointSubsets(same, {Pod("a", "10.0.0.1")});
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].at("ports").as_array().size(), 2u);
}

TEST(EndpointSubsets, TruncationKeepsReadyAddressesFirst) {
  bj::array subsets;
  bj::array ready, not_ready;
  for (int i = 0; i < 900; ++i)
    ready.push_back(
        bj::object{{"ip", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)}});
  for (int i = 0; i < 300; ++i)
    not_ready.push_back(
        bj::object{{"ip", "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)}});
  subsets.push_back(bj::object{{"addresses", ready}, {"notReadyAddresses", not_ready}});
  EXPECT_EQ(CountAddresses(subsets), 1200u);
  EXPECT_TRUE(TruncateSubsets(subsets));
  EXPECT_EQ(CountAddresses(subsets), 1000u);
  EXPECT_EQ(subsets[0].at("addresses").as_array().size(), 900u);
  EXPECT_FALSE(TruncateSubsets(subsets));
}

TEST(TriggerTime, FirstTheServiceCreationThenWhatChanged) {
  TriggerTimeTracker tracker;
  bj::object svc = Service({HttpPort(8080)});
  svc["metadata"].as_object()["creationTimestamp"] = "2024-12-31T23:00:00Z";
  std::vector<bj::object> pods = {Pod("a", "10.0.0.1")};
  EXPECT_EQ(tracker.Compute(svc, pods), "2024-12-31T23:00:00Z");
  EXPECT_EQ(tracker.Compute(svc, pods), "");
  pods[0]["status"].as_object()["conditions"].as_array()[0].as_object()["lastTransitionTime"] =
      "2025-01-01T00:00:05.25Z";
  EXPECT_EQ(tracker.Compute(svc, pods), "2025-01-01T00:00:05.25Z");
  EXPECT_EQ(ParseRfc3339Time("2025-01-01T02:00:00+02:00"),
            ParseRfc3339Time("2025-01-01T00:00:00Z"));
  EXPECT_EQ(ParseRfc3339Time("yesterday"), std::nullopt);
}

TEST(EndpointSliceTracker, TellsOwnWritesFromOthersAndALaggingCache) {
  EndpointSliceTracker tracker;
  bj::object svc{{"metadata", bj::object{{"name", "web"}, {"namespace", "default"}, {"uid", "u"}}}};
  auto slice = [](const char* uid, const char* rv) {
    return bj::object{
        {"metadata", bj::object{{"namespace", "default"},
                                {"uid", uid},
                                {"resourceVersion", rv},
                                {"labels", bj::object{{"kubernetes.io/service-name", "web"}}}}}};
  };
  EXPECT_TRUE(tracker.ShouldSync(slice("s1", "5")));
  tracker.Update(slice("s1", "5"));
  EXPECT_FALSE(tracker.ShouldSync(slice("s1", "5")));
  EXPECT_TRUE(tracker.ShouldSync(slice("s1", "6")));
  EXPECT_TRUE(tracker.StaleSlices(svc, {}));                  // written, not cached yet
  EXPECT_TRUE(tracker.StaleSlices(svc, {slice("s1", "4")}));  // cached older than written
  EXPECT_FALSE(tracker.StaleSlices(svc, {slice("s1", "5")}));
  tracker.ExpectDeletion(slice("s1", "5"));
  EXPECT_TRUE(tracker.StaleSlices(svc, {slice("s1", "5")}));  // deleted, still cached
  EXPECT_TRUE(tracker.HandleDeletion(slice("s1", "5")));
  tracker.Update(slice("s2", "8"));
  EXPECT_FALSE(tracker.HandleDeletion(slice("s2", "8")));  // someone else deleted it
}

}  // namespace
}  // namespace berth::controlplane::controllers
