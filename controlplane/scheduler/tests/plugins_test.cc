// Parsing pods and nodes, and every filter and score of the scheduler's
// decision core, against upstream kube-scheduler's behaviour.

#include "controlplane/scheduler/plugins.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/scheduler/node_info.h"

namespace berth::controlplane::scheduler {
namespace {

namespace bj = boost::json;
using Reasons = std::vector<std::string>;

constexpr int64_t kGi = int64_t{1} << 30;
constexpr int64_t kMi = int64_t{1} << 20;
constexpr std::string_view kHostname = "kubernetes.io/hostname";
constexpr std::string_view kZone = "topology.kubernetes.io/zone";

bj::object Json(std::string_view text) {
  return bj::parse(text).as_object();
}

PodInfo ParsedPod(std::string_view json) {
  Result<PodInfo> pod = ParsePod(Json(json));
  EXPECT_TRUE(pod.ok()) << (pod.ok() ? "" : pod.error().str()) << "\n" << json;
  return pod.ok() ? std::move(pod).value() : PodInfo{};
}

std::string PodError(std::string_view json) {
  Result<PodInfo> pod = ParsePod(Json(json));
  EXPECT_FALSE(pod.ok()) << json;
  if (pod.ok()) return "";
  EXPECT_EQ(pod.error().code(), Errc::kInvalidArgument);
  return pod.error().str();
}

// A pod in `ns` with `labels` (JSON object text) and `affinity` (JSON
// object text for spec.affinity).
PodInfo AffinityPod(const std::string& name, const std::string& labels, const std::string& affinity,
                    const std::string& ns = "default") {
  return ParsedPod(R"({"metadata": {"name": ")" + name + R"(", "namespace": ")" + ns +
                   R"(", "labels": )" + labels + R"(}, "spec": {"affinity": )" + affinity + "}}");
}

PodInfo MakePod(const std::string& name, int64_t milli_cpu = 0, int64_t memory = 0,
                Labels labels = {}, const std::string& ns = "default") {
  PodInfo pod;
  pod.name = name;
  pod.namespace_ = ns;
  pod.key = ns + "/" + name;
  pod.labels = std::move(labels);
  pod.requests = {milli_cpu, memory, 0, 1};
  return pod;
}

std::shared_ptr<const PodInfo> Share(PodInfo pod) {
  return std::make_shared<const PodInfo>(std::move(pod));
}

NodeInfo MakeNode(const std::string& name, Labels labels = {}) {
  NodeInfo node;
  node.name = name;
  node.labels = std::move(labels);
  node.labels.emplace(kHostname, name);
  node.ready = true;
  node.allocatable = {4000, 8 * kGi, 100 * kGi, 110};
  return node;
}

ClusterView View(const std::vector<NodeInfo>& nodes) {
  ClusterView view;
  for (const NodeInfo& node : nodes)
    view.nodes.push_back(&node);
  return view;
}

Reasons Filter(const PodInfo& pod, const NodeInfo& node) {
  ClusterView view;
  view.nodes.push_back(&node);
  return FilterNode(pod, node, view);
}

// ---- parsing

TEST(TolerationTest, MatchesAsUpstreamToleratesTaint) {
  Taint taint{"dedicated", "gpu", "NoSchedule"};
  EXPECT_TRUE((Toleration{"dedicated", false, "gpu", "NoSchedule"}.Tolerates(taint)));
  EXPECT_TRUE((Toleration{"dedicated", false, "gpu", ""}.Tolerates(taint)));
  EXPECT_FALSE((Toleration{"dedicated", false, "cpu", "NoSchedule"}.Tolerates(taint)));
  EXPECT_FALSE((Toleration{"dedicated", false, "", "NoSchedule"}.Tolerates(taint)));
  EXPECT_TRUE((Toleration{"dedicated", true, "", ""}.Tolerates(taint)));
  EXPECT_TRUE((Toleration{"dedicated", true, "ignored", ""}.Tolerates(taint)));
  EXPECT_TRUE((Toleration{"", true, "", ""}.Tolerates(taint)));
  EXPECT_FALSE((Toleration{"", true, "", "NoExecute"}.Tolerates(taint)));
  EXPECT_FALSE((Toleration{"other", true, "", ""}.Tolerates(taint)));
  EXPECT_FALSE((Toleration{"dedicated", false, "gpu", "PreferNoSchedule"}.Tolerates(taint)));
  EXPECT_TRUE((Toleration{"k", false, "", ""}.Tolerates(Taint{"k", "", "NoExecute"})));
}

TEST(ParsePodTest, FillsEveryField) {
  PodInfo pod = ParsedPod(R"({
    "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1",
                 "labels": {"app": "web"},
                 "ownerReferences": [{"kind": "Other", "uid": "o-0"},
                                     {"kind": "ReplicaSet", "uid": "rs-1", "controller": true}]},
    "spec": {
      "nodeName": "n1",
      "nodeSelector": {"disk": "ssd"},
      "containers": [
        {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}},
         "ports": [{"containerPort": 80, "hostPort": 8080},
                   {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"},
                   {"containerPort": 9000}]}],
      "initContainers": [{"name": "i", "ports": [{"containerPort": 1, "hostPort": 1}]}],
      "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu",
                       "effect": "NoSchedule"},
                      {"operator": "Exists"}],
      "affinity": {
        "nodeAffinity": {
          "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}],
             "matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n9"]}]}]},
          "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 7, "preference": {"matchExpressions": [
              {"key": "gen", "operator": "Gt", "values": ["3"]}]}}]},
        "podAffinity": {
          "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone",
             "namespaces": ["data"]}],
          "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 3, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "cache"}},
                                              "namespaceSelector": {}, "topologyKey": "h"}}]},
        "podAntiAffinity": {
          "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}},
             "topologyKey": "kubernetes.io/hostname"}],
          "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": "zone"}}]}}}})");
  EXPECT_EQ(pod.key, "shop/web-1");
  EXPECT_EQ(pod.namespace_, "shop");
  EXPECT_EQ(pod.name, "web-1");
  EXPECT_EQ(pod.uid, "u-1");
  EXPECT_EQ(pod.labels, (Labels{{"app", "web"}}));
  EXPECT_EQ(pod.node_name, "n1");
  EXPECT_EQ(pod.controller_uid, "rs-1");
  EXPECT_EQ(pod.requests.milli_cpu, 250);
  EXPECT_EQ(pod.requests.memory, 64 * kMi);
  EXPECT_EQ(pod.requests.pods, 1);
  ASSERT_EQ(pod.host_ports.size(), 2u);  // containers only, hostPort > 0
  EXPECT_EQ(pod.host_ports[0], (HostPort{"TCP", "0.0.0.0", 8080}));
  EXPECT_EQ(pod.host_ports[1], (HostPort{"UDP", "10.0.0.1", 53}));
  EXPECT_EQ(pod.node_selector, (Labels{{"disk", "ssd"}}));
  ASSERT_EQ(pod.tolerations.size(), 2u);
  EXPECT_EQ(pod.tolerations[0].key, "dedicated");
  EXPECT_FALSE(pod.tolerations[0].exists);
  EXPECT_EQ(pod.tolerations[0].value, "gpu");
  EXPECT_EQ(pod.tolerations[0].effect, "NoSchedule");
  EXPECT_TRUE(pod.tolerations[1].exists);
  EXPECT_EQ(pod.tolerations[1].key, "");

  ASSERT_EQ(pod.required_node_terms.size(), 1u);
  const NodeSelectorTerm& term = pod.required_node_terms[0];
  ASSERT_EQ(term.match_expressions.size(), 1u);
  EXPECT_EQ(term.match_expressions[0].key, "zone");
  EXPECT_EQ(term.match_expressions[0].op, "In");
  EXPECT_EQ(term.match_expressions[0].values, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(term.match_fields.size(), 1u);
  EXPECT_EQ(term.match_fields[0].op, "NotIn");
  ASSERT_EQ(pod.preferred_node_terms.size(), 1u);
  EXPECT_EQ(pod.preferred_node_terms[0].weight, 7);
  EXPECT_EQ(pod.preferred_node_terms[0].term.match_expressions[0].op, "Gt");

  ASSERT_EQ(pod.required_affinity.size(), 1u);
  EXPECT_EQ(pod.required_affinity[0].topology_key, "zone");
  EXPECT_EQ(pod.required_affinity[0].namespaces, (std::set<std::string>{"data"}));
  EXPECT_FALSE(pod.required_affinity[0].namespace_selector.has_value());
  ASSERT_EQ(pod.preferred_affinity.size(), 1u);
  EXPECT_EQ(pod.preferred_affinity[0].weight, 3);
  ASSERT_TRUE(pod.preferred_affinity[0].term.namespace_selector.has_value());
  EXPECT_TRUE(pod.preferred_affinity[0].term.namespace_selector->empty());
  ASSERT_EQ(pod.required_anti_affinity.size(), 1u);
  EXPECT_EQ(pod.required_anti_affinity[0].topology_key, kHostname);
  ASSERT_EQ(pod.preferred_anti_affinity.size(), 1u);
  EXPECT_EQ(pod.preferred_anti_affinity[0].weight, 100);
  // No labelSelector selects nothing, unlike an empty one.
  EXPECT_FALSE(pod.preferred_anti_affinity[0].term.selector.empty());
}

TEST(ParsePodTest, DefaultsAndMinimalPods) {
  PodInfo pod = ParsedPod(R"({"metadata": {"name": "p"}, "spec": {"containers": [{}]}})");
  EXPECT_EQ(pod.key, "default/p");
  EXPECT_EQ(pod.controller_uid, "");
  EXPECT_TRUE(pod.host_ports.empty());
  EXPECT_TRUE(pod.required_node_terms.empty());
  EXPECT_EQ(pod.requests.milli_cpu, 0);
  EXPECT_EQ(pod.requests.pods, 1);
  // ownerReferences without a controller give no controller_uid.
  pod = ParsedPod(R"({"metadata": {"name": "p", "ownerReferences": [
    {"uid": "x", "controller": false}]}, "spec": {}})");
  EXPECT_EQ(pod.controller_uid, "");
}

TEST(ParsePodTest, MalformedFieldsAreNamed) {
  const std::string affinity = "spec.affinity.";
  EXPECT_EQ(PodError(R"({"metadata": [], "spec": {}})"), "metadata: expected object, got array");
  EXPECT_EQ(PodError(R"({"metadata": {"labels": {"app": 1}}, "spec": {}})"),
            "metadata.labels.app: expected string, got number");
  EXPECT_EQ(
      PodError(
          R"({"spec": {"tolerations": [{"operator": "Exists"}, {"key": "k", "operator": "Foo"}]}})"),
      "spec.tolerations[1].operator: Unsupported value: \"Foo\": supported values: \"Equal\", "
      "\"Exists\"");
  EXPECT_EQ(PodError(R"({"spec": {"tolerations": [{"key": "k", "effect": "Never"}]}})"),
            "spec.tolerations[0].effect: Unsupported value: \"Never\": supported values: "
            "\"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"");
  EXPECT_EQ(PodError(R"({"spec": {"containers": [{"ports": [{"hostPort": "80"}]}]}})"),
            "spec.containers[0].ports[0].hostPort: expected integer, got string");
  EXPECT_EQ(PodError(R"({"spec": {"containers": [{"ports": [{"hostPort": 70000}]}]}})"),
            "spec.containers[0].ports[0].hostPort: Invalid value: 70000: must be between 1 and "
            "65535, inclusive");
  EXPECT_EQ(PodError(R"({"spec": {"containers": [{"resources": {"requests": {"cpu": "x"}}}]}})"),
            "spec.containers[0].resources.requests.cpu: \"x\" is not a quantity");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"nodeAffinity": {
              "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "k", "operator": "Near", "values": ["a"]}]}]}}}}})"),
            affinity +
                "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
                ".matchExpressions[0].operator: Unsupported value: \"Near\": supported values: "
                "\"DoesNotExist\", \"Exists\", \"Gt\", \"In\", \"Lt\", \"NotIn\"");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"nodeAffinity": {
              "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "k", "operator": "In"}]}]}}}}})"),
            affinity +
                "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
                ".matchExpressions[0].values: Required value: must be specified when `operator` "
                "is 'In' or 'NotIn'");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"nodeAffinity": {
              "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "k", "operator": "Gt", "values": ["1", "2"]}]}]}}}}})"),
            affinity +
                "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
                ".matchExpressions[0].values: Required value: must be specified single value when "
                "`operator` is 'Lt' or 'Gt'");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"nodeAffinity": {
              "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.uid", "operator": "In", "values": ["a"]}]}]}}}}})"),
            affinity +
                "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
                ".matchFields[0].key: Invalid value: \"metadata.uid\": not a valid field selector "
                "key");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"nodeAffinity": {
              "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}}})"),
            affinity +
                "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: "
                "Required value: must have at least one node selector term");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"nodeAffinity": {
              "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 0, "preference": {}}]}}}})"),
            affinity +
                "nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid "
                "value: 0: must be in the range 1-100");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"podAntiAffinity": {
              "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]}}}})"),
            affinity +
                "podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: "
                "Required value: can not be empty");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"podAffinity": {
              "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 5, "podAffinityTerm": {
                "topologyKey": "z", "labelSelector": {"matchExpressions": [
                  {"key": "app", "operator": "Is"}]}}}]}}}})"),
            affinity +
                "podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm."
                "labelSelector.matchExpressions[0].operator: Unsupported value: \"Is\": supported "
                "values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"");
  EXPECT_EQ(PodError(R"({"spec": {"affinity": {"podAffinity": {
              "requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "z", "namespaces": "a"}]}}}})"),
            affinity +
                "podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaces: "
                "expected array, got string");
}

TEST(ParseNodeTest, ReadsLabelsTaintsReadinessAndAllocatable) {
  Result<NodeInfo> node = ParseNode(Json(R"({
    "metadata": {"name": "n1", "labels": {"zone": "a"}},
    "spec": {"unschedulable": true,
             "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
                        {"key": "soft", "effect": "PreferNoSchedule"}]},
    "status": {"conditions": [{"type": "MemoryPressure", "status": "True"},
                              {"type": "Ready", "status": "True"}],
               "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
               "allocatable": {"cpu": "3500m"}}})"));
  ASSERT_TRUE(node.ok()) << node.error().str();
  EXPECT_EQ(node->name, "n1");
  EXPECT_EQ(node->labels, (Labels{{"zone", "a"}}));
  EXPECT_TRUE(node->unschedulable);
  EXPECT_TRUE(node->ready);
  ASSERT_EQ(node->taints.size(), 2u);
  EXPECT_EQ(node->taints[0].key, "dedicated");
  EXPECT_EQ(node->taints[0].value, "gpu");
  EXPECT_EQ(node->taints[1].value, "");
  EXPECT_EQ(node->taints[1].effect, "PreferNoSchedule");
  EXPECT_EQ(node->allocatable.milli_cpu, 3500);
  EXPECT_EQ(node->allocatable.memory, 8 * kGi);
  EXPECT_EQ(node->allocatable.pods, 110);
  EXPECT_TRUE(node->pods.empty());

  node = ParseNode(Json(R"({"metadata": {"name": "n2"},
    "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})"));
  ASSERT_TRUE(node.ok()) << node.error().str();
  EXPECT_FALSE(node->ready);
  EXPECT_FALSE(node->unschedulable);
  node = ParseNode(Json(R"({"metadata": {"name": "n3"}})"));
  ASSERT_TRUE(node.ok());
  EXPECT_FALSE(node->ready);
}

TEST(ParseNodeTest, MalformedFieldsAreNamed) {
  auto error = [](std::string_view json) {
    Result<NodeInfo> node = ParseNode(Json(json));
    EXPECT_FALSE(node.ok()) << json;
    return node.ok() ? std::string() : node.error().str();
  };
  EXPECT_EQ(error(R"({"spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}})"),
            "spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: "
            "\"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\"");
  EXPECT_EQ(error(R"({"spec": {"taints": [{"effect": "NoSchedule"}]}})"),
            "spec.taints[0].key: required field missing");
  EXPECT_EQ(error(R"({"spec": {"unschedulable": "yes"}})"),
            "spec.unschedulable: expected boolean, got string");
  EXPECT_EQ(error(R"({"status": {"capacity": {"pods": "many"}}})"),
            "status.capacity.pods: \"many\" is not a quantity");
}

TEST(NodeInfoTest, AddAndRemovePodsKeepTheTotals) {
  NodeInfo node = MakeNode("n1");
  PodInfo a = MakePod("a", 500, kGi);
  a.host_ports = {{"TCP", "0.0.0.0", 80}, {"UDP", "0.0.0.0", 53}};
  a.required_anti_affinity.resize(2);
  a.required_anti_affinity[0].topology_key = kHostname;
  a.required_anti_affinity[1].topology_key = kZone;
  PodInfo b = MakePod("b");  // requests nothing
  b.host_ports = {{"TCP", "0.0.0.0", 80}};
  node.AddPod(Share(a));
  node.AddPod(Share(b));
  EXPECT_EQ(node.pods.size(), 2u);
  EXPECT_EQ(node.requested.milli_cpu, 500);
  EXPECT_EQ(node.requested.memory, kGi);
  EXPECT_EQ(node.requested.pods, 2);
  EXPECT_EQ(node.used_ports.size(), 3u);
  EXPECT_EQ(node.pods_with_affinity, 1);
  EXPECT_EQ(node.pods_with_required_anti_affinity, 1);
  EXPECT_EQ(node.required_anti_affinity_keys,
            (std::map<std::string, int32_t>{{std::string(kHostname), 1}, {std::string(kZone), 1}}));
  EXPECT_EQ(node.pods_without_cpu_request, 1);
  EXPECT_EQ(node.pods_without_memory_request, 1);

  // Adding a pod again replaces it.
  PodInfo bigger = MakePod("a", 1000, kGi);
  node.AddPod(Share(bigger));
  EXPECT_EQ(node.pods.size(), 2u);
  EXPECT_EQ(node.requested.milli_cpu, 1000);
  EXPECT_EQ(node.requested.pods, 2);
  EXPECT_EQ(node.used_ports.size(), 1u);
  EXPECT_EQ(node.pods_with_affinity, 0);
  EXPECT_EQ(node.pods_with_required_anti_affinity, 0);
  EXPECT_TRUE(node.required_anti_affinity_keys.empty());

  node.RemovePod("default/b");
  node.RemovePod("default/missing");
  EXPECT_EQ(node.pods.size(), 1u);
  EXPECT_EQ(node.requested.milli_cpu, 1000);
  EXPECT_EQ(node.requested.pods, 1);
  EXPECT_TRUE(node.used_ports.empty());
  EXPECT_EQ(node.pods_without_cpu_request, 0);
  node.RemovePod("default/a");
  EXPECT_EQ(node.requested.milli_cpu, 0);
  EXPECT_EQ(node.requested.memory, 0);
  EXPECT_EQ(node.requested.pods, 0);
}

// ---- filters

TEST(FilterNodeTest, FitsAnOrdinaryNode) {
  EXPECT_EQ(Filter(MakePod("p", 100, kMi), MakeNode("n1")), Reasons{});
}

TEST(FilterNodeTest, StopsAtTheFirstRejectingFilterInOrder) {
  NodeInfo node = MakeNode("n1");
  node.unschedulable = true;
  node.ready = false;
  node.taints.push_back({"dedicated", "gpu", "NoSchedule"});
  node.allocatable.milli_cpu = 0;
  PodInfo pod = MakePod("p", 100);
  pod.node_name = "elsewhere";
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) were unschedulable"});
  node.unschedulable = false;
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) didn't match the requested node name"});
  pod.node_name = "n1";
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) were not ready"});
  node.ready = true;
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) had untolerated taint {dedicated: gpu}"});
  node.taints.clear();
  pod.node_selector = {{"disk", "ssd"}};
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) didn't match Pod's node affinity/selector"});
  node.labels["disk"] = "ssd";
  pod.host_ports = {{"TCP", "0.0.0.0", 80}};
  PodInfo holder = MakePod("holder");
  holder.host_ports = pod.host_ports;
  node.AddPod(Share(holder));
  EXPECT_EQ(Filter(pod, node),
            Reasons{"node(s) didn't have free ports for the requested pod ports"});
  node.RemovePod(holder.key);
  EXPECT_EQ(Filter(pod, node), Reasons{"Insufficient cpu"});
  node.allocatable.milli_cpu = 100;
  EXPECT_EQ(Filter(pod, node), Reasons{});
}

TEST(FilterNodeTest, UnschedulableNodesTakePodsToleratingTheirTaint) {
  NodeInfo node = MakeNode("n1");
  node.unschedulable = true;
  PodInfo pod = MakePod("p");
  pod.tolerations.push_back({"node.kubernetes.io/unschedulable", true, "", "NoExecute"});
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) were unschedulable"});
  pod.tolerations.push_back({"node.kubernetes.io/unschedulable", true, "", "NoSchedule"});
  EXPECT_EQ(Filter(pod, node), Reasons{});
  pod.tolerations = {{"", true, "", ""}};
  EXPECT_EQ(Filter(pod, node), Reasons{});
}

TEST(FilterNodeTest, TaintsWithEffectsThatFilter) {
  NodeInfo node = MakeNode("n1");
  node.taints = {{"soft", "x", "PreferNoSchedule"}, {"evict", "", "NoExecute"}};
  PodInfo pod = MakePod("p");
  // PreferNoSchedule only scores; an empty value prints as such.
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) had untolerated taint {evict: }"});
  pod.tolerations.push_back({"evict", false, "", "NoExecute"});
  EXPECT_EQ(Filter(pod, node), Reasons{});
  node.taints.push_back({"dedicated", "gpu", "NoSchedule"});
  node.taints.push_back({"second", "y", "NoSchedule"});
  pod.tolerations.push_back({"dedicated", false, "cpu", ""});
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) had untolerated taint {dedicated: gpu}"});
  pod.tolerations.push_back({"dedicated", true, "", "NoSchedule"});
  EXPECT_EQ(Filter(pod, node), Reasons{"node(s) had untolerated taint {second: y}"});
}

bool NodeRequirementFits(const NodeInfo& node, NodeRequirement r, bool is_field = false) {
  PodInfo pod = MakePod("p");
  NodeSelectorTerm term;
  (is_field ? term.match_fields : term.match_expressions).push_back(std::move(r));
  pod.required_node_terms.push_back(term);
  return Filter(pod, node).empty();
}

TEST(FilterNodeTest, NodeAffinityOperators) {
  NodeInfo node = MakeNode("n1", {{"zone", "a"}, {"gen", "5"}, {"gpu", ""}});
  EXPECT_TRUE(NodeRequirementFits(node, {"zone", "In", {"b", "a"}}));
  EXPECT_FALSE(NodeRequirementFits(node, {"zone", "In", {"b"}}));
  EXPECT_FALSE(NodeRequirementFits(node, {"missing", "In", {""}}));
  EXPECT_TRUE(NodeRequirementFits(node, {"zone", "NotIn", {"b"}}));
  EXPECT_FALSE(NodeRequirementFits(node, {"zone", "NotIn", {"a"}}));
  EXPECT_TRUE(NodeRequirementFits(node, {"missing", "NotIn", {"a"}}));
  EXPECT_TRUE(NodeRequirementFits(node, {"gpu", "Exists", {}}));
  EXPECT_FALSE(NodeRequirementFits(node, {"missing", "Exists", {}}));
  EXPECT_TRUE(NodeRequirementFits(node, {"missing", "DoesNotExist", {}}));
  EXPECT_FALSE(NodeRequirementFits(node, {"zone", "DoesNotExist", {}}));
  EXPECT_TRUE(NodeRequirementFits(node, {"gen", "Gt", {"4"}}));
  EXPECT_FALSE(NodeRequirementFits(node, {"gen", "Gt", {"5"}}));
  EXPECT_TRUE(NodeRequirementFits(node, {"gen", "Lt", {"6"}}));
  EXPECT_FALSE(NodeRequirementFits(node, {"gen", "Lt", {"5"}}));
  EXPECT_TRUE(NodeRequirementFits(node, {"gen", "Gt", {"-10"}}));
  EXPECT_FALSE(NodeRequirementFits(node, {"zone", "Gt", {"1"}}));  // label not an integer
  EXPECT_FALSE(NodeRequirementFits(node, {"gen", "Gt", {"x"}}));   // value not an integer
  EXPECT_FALSE(NodeRequirementFits(node, {"missing", "Lt", {"9"}}));
  EXPECT_TRUE(NodeRequirementFits(node, {"metadata.name", "In", {"n1"}}, true));
  EXPECT_FALSE(NodeRequirementFits(node, {"metadata.name", "In", {"n2"}}, true));
  EXPECT_FALSE(NodeRequirementFits(node, {"metadata.name", "NotIn", {"n1"}}, true));
  // matchFields read the name, not a label of that key.
  node.labels["metadata.name"] = "n2";
  EXPECT_FALSE(NodeRequirementFits(node, {"metadata.name", "In", {"n2"}}, true));
}

TEST(FilterNodeTest, NodeSelectorTermsAreOredAndTheirRequirementsAnded) {
  NodeInfo node = MakeNode("n1", {{"zone", "a"}, {"disk", "ssd"}});
  const std::string kReason = "node(s) didn't match Pod's node affinity/selector";
  PodInfo pod = ParsedPod(R"({"spec": {"affinity": {"nodeAffinity": {
    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
      {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
      {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]},
                            {"key": "disk", "operator": "In", "values": ["hdd"]}]}]}}}}})");
  EXPECT_EQ(Filter(pod, node), Reasons{kReason});
  node.labels["disk"] = "hdd";
  EXPECT_EQ(Filter(pod, node), Reasons{});
  node.labels["zone"] = "b";
  EXPECT_EQ(Filter(pod, node), Reasons{});
  node.labels["zone"] = "c";
  EXPECT_EQ(Filter(pod, node), Reasons{kReason});

  // A term with no requirements matches nothing.
  pod = ParsedPod(R"({"spec": {"affinity": {"nodeAffinity": {
    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}}}}})");
  EXPECT_EQ(Filter(pod, node), Reasons{kReason});

  // nodeSelector and affinity must both hold.
  pod = ParsedPod(R"({"spec": {"nodeSelector": {"zone": "c", "disk": "hdd"}}})");
  EXPECT_EQ(Filter(pod, node), Reasons{});
  pod.node_selector["zone"] = "a";
  EXPECT_EQ(Filter(pod, node), Reasons{kReason});
  pod.node_selector = {{"zone", "c"}};
  pod.required_node_terms = {{{{"disk", "In", {"ssd"}}}, {}}};
  EXPECT_EQ(Filter(pod, node), Reasons{kReason});
}

TEST(FilterNodeTest, HostPortConflicts) {
  NodeInfo node = MakeNode("n1");
  PodInfo holder = ParsedPod(R"({"metadata": {"name": "holder"}, "spec": {"containers": [
    {"ports": [{"containerPort": 80, "hostPort": 80},
               {"containerPort": 8080, "hostPort": 8080, "hostIP": "10.0.0.1"},
               {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "127.0.0.1"}]}]}})");
  node.AddPod(Share(holder));
  auto conflicts = [&](HostPort want) {
    PodInfo pod = MakePod("p");
    pod.host_ports = {std::move(want)};
    Reasons reasons = Filter(pod, node);
    EXPECT_TRUE(reasons.empty() ||
                reasons == Reasons{"node(s) didn't have free ports for the requested pod ports"});
    return !reasons.empty();
  };
  EXPECT_TRUE(conflicts({"TCP", "0.0.0.0", 80}));
  EXPECT_TRUE(conflicts({"TCP", "10.0.0.2", 80}));  // the holder binds every address
  EXPECT_TRUE(conflicts({"", "", 80}));             // defaults: TCP on 0.0.0.0
  EXPECT_FALSE(conflicts({"UDP", "0.0.0.0", 80}));
  EXPECT_FALSE(conflicts({"TCP", "0.0.0.0", 81}));
  EXPECT_TRUE(conflicts({"TCP", "10.0.0.1", 8080}));
  EXPECT_FALSE(conflicts({"TCP", "10.0.0.2", 8080}));
  EXPECT_TRUE(conflicts({"TCP", "0.0.0.0", 8080}));  // wanting every address
  EXPECT_TRUE(conflicts({"UDP", "127.0.0.1", 53}));
  EXPECT_FALSE(conflicts({"UDP", "127.0.0.2", 53}));
  EXPECT_FALSE(conflicts({"TCP", "127.0.0.1", 53}));
  EXPECT_FALSE(conflicts({"SCTP", "0.0.0.0", 53}));
  node.RemovePod(holder.key);
  EXPECT_FALSE(conflicts({"TCP", "0.0.0.0", 80}));
}

TEST(FilterNodeTest, ResourcesReportEveryShortfall) {
  NodeInfo node = MakeNode("n1");
  node.allocatable = {1000, 2 * kGi, 10 * kGi, 2};
  node.AddPod(Share(MakePod("a", 600, kGi)));
  PodInfo pod = MakePod("p", 500, 2 * kGi);
  pod.requests.ephemeral_storage = 11 * kGi;
  EXPECT_EQ(Filter(pod, node),
            (Reasons{"Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage"}));
  pod.requests = {400, kGi, 10 * kGi, 1};
  EXPECT_EQ(Filter(pod, node), Reasons{});  // exactly full
  node.AddPod(Share(MakePod("b")));
  EXPECT_EQ(Filter(pod, node), Reasons{"Too many pods"});
  // Upstream checks the pod count first, and for a pod requesting
  // nothing, only it.
  EXPECT_EQ(Filter(MakePod("big", 401), node), (Reasons{"Too many pods", "Insufficient cpu"}));
  EXPECT_EQ(Filter(MakePod("empty"), node), Reasons{"Too many pods"});
  node.allocatable.pods = 3;
  node.allocatable.milli_cpu = 0;
  EXPECT_EQ(Filter(MakePod("empty"), node), Reasons{});
  EXPECT_EQ(Filter(MakePod("tiny", 1), node), Reasons{"Insufficient cpu"});
}

// Nodes n1, n2 in zone a, n3 in zone b, n4 without a zone.
std::vector<NodeInfo> ZonedNodes() {
  std::vector<NodeInfo> nodes;
  nodes.push_back(MakeNode("n1", {{std::string(kZone), "a"}}));
  nodes.push_back(MakeNode("n2", {{std::string(kZone), "a"}}));
  nodes.push_back(MakeNode("n3", {{std::string(kZone), "b"}}));
  nodes.push_back(MakeNode("n4"));
  return nodes;
}

// For each of `nodes`, whether `pod` fits ("") or the reason it does not.
std::vector<std::string> FilterAll(const PodInfo& pod, const std::vector<NodeInfo>& nodes,
                                   const ClusterView& view) {
  std::vector<std::string> out;
  for (const NodeInfo& node : nodes) {
    Reasons reasons = FilterNode(pod, node, view);
    EXPECT_LE(reasons.size(), 1u);
    out.push_back(reasons.empty() ? "" : reasons[0]);
  }
  return out;
}

const std::string kAffinity = "node(s) didn't match pod affinity rules";
const std::string kAnti = "node(s) didn't match pod anti-affinity rules";
const std::string kExisting = "node(s) didn't satisfy existing pods anti-affinity rules";

std::string RequiredAffinity(const std::string& kind, const std::string& terms) {
  return R"({")" + kind + R"(": {"requiredDuringSchedulingIgnoredDuringExecution": )" + terms +
         "}}";
}

TEST(InterPodAffinityTest, RequiredAffinityByZoneAndHostname) {
  std::vector<NodeInfo> nodes = ZonedNodes();
  nodes[1].AddPod(Share(MakePod("db", 0, 0, {{"app", "db"}})));
  ClusterView view = View(nodes);
  PodInfo zone = AffinityPod(
      "web", R"({"app": "web"})",
      RequiredAffinity("podAffinity", R"([{"labelSelector": {"matchLabels": {"app": "db"}},
                                           "topologyKey": "topology.kubernetes.io/zone"}])"));
  EXPECT_EQ(FilterAll(zone, nodes, view), (Reasons{"", "", kAffinity, kAffinity}));

  PodInfo host = AffinityPod(
      "web", R"({"app": "web"})",
      RequiredAffinity("podAffinity", R"([{"labelSelector": {"matchLabels": {"app": "db"}},
                                           "topologyKey": "kubernetes.io/hostname"}])"));
  EXPECT_EQ(FilterAll(host, nodes, view), (Reasons{kAffinity, "", kAffinity, kAffinity}));

  // A pod in another namespace does not count unless the term names it.
  nodes[1].RemovePod("default/db");
  nodes[2].AddPod(Share(MakePod("db", 0, 0, {{"app", "db"}}, "data")));
  EXPECT_EQ(FilterAll(zone, nodes, view), (Reasons{kAffinity, kAffinity, kAffinity, kAffinity}));
  PodInfo listed = AffinityPod(
      "web", R"({"app": "web"})",
      RequiredAffinity("podAffinity", R"([{"labelSelector": {"matchLabels": {"app": "db"}},
                                           "namespaces": ["data"],
                                           "topologyKey": "topology.kubernetes.io/zone"}])"));
  EXPECT_EQ(FilterAll(listed, nodes, view), (Reasons{kAffinity, kAffinity, "", kAffinity}));
  PodInfo by_label = AffinityPod(
      "web", R"({"app": "web"})",
      RequiredAffinity("podAffinity", R"([{"labelSelector": {"matchLabels": {"app": "db"}},
                                           "namespaceSelector": {"matchLabels": {"team": "x"}},
                                           "topologyKey": "topology.kubernetes.io/zone"}])"));
  EXPECT_EQ(FilterAll(by_label, nodes, view),
            (Reasons{kAffinity, kAffinity, kAffinity, kAffinity}));
  view.namespace_labels["data"] = {{"team", "x"}};
  EXPECT_EQ(FilterAll(by_label, nodes, view), (Reasons{kAffinity, kAffinity, "", kAffinity}));
  PodInfo everywhere = AffinityPod(
      "web", R"({"app": "web"})",
      RequiredAffinity("podAffinity", R"([{"labelSelector": {"matchLabels": {"app": "db"}},
                                           "namespaceSelector": {},
                                           "topologyKey": "topology.kubernetes.io/zone"}])"));
  EXPECT_EQ(FilterAll(everywhere, nodes, view), (Reasons{kAffinity, kAffinity, "", kAffinity}));
}

TEST(InterPodAffinityTest, FirstPodOfASelfAffineGroupPasses) {
  std::vector<NodeInfo> nodes = ZonedNodes();
  ClusterView view = View(nodes);
  const std::string terms =
      RequiredAffinity("podAffinity", R"([{"labelSelector": {"matchLabels": {"app": "db"}},
                          "topologyKey": "topology.kubernetes.io/zone"}])");
  PodInfo first = AffinityPod("db-0", R"({"app": "db"})", terms);
  // The node still needs the topology label.
  EXPECT_EQ(FilterAll(first, nodes, view), (Reasons{"", "", "", kAffinity}));
  PodInfo stranger = AffinityPod("web", R"({"app": "web"})", terms);
  EXPECT_EQ(FilterAll(stranger, nodes, view),
            (Reasons{kAffinity, kAffinity, kAffinity, kAffinity}));
  // Once one exists, the group follows it.
  nodes[2].AddPod(Share(first));
  EXPECT_EQ(FilterAll(AffinityPod("db-1", R"({"app": "db"})", terms), nodes, view),
            (Reasons{kAffinity, kAffinity, "", kAffinity}));
  // A matching pod on a node without the key does not count as existing.
  nodes[2].RemovePod(first.key);
  nodes[3].AddPod(Share(first));
  EXPECT_EQ(FilterAll(AffinityPod("db-1", R"({"app": "db"})", terms), nodes, view),
            (Reasons{"", "", "", kAffinity}));
}

TEST(InterPodAffinityTest, OnePodMustMatchAllTermsAndNilSelectorsMatchNothing) {
  std::vector<NodeInfo> nodes = ZonedNodes();
  nodes[0].AddPod(Share(MakePod("a", 0, 0, {{"app", "db"}})));
  nodes[0].AddPod(Share(MakePod("b", 0, 0, {{"tier", "backend"}})));
  ClusterView view = View(nodes);
  PodInfo pod = AffinityPod("web", R"({})", RequiredAffinity("podAffinity", R"([
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"},
        {"labelSelector": {"matchLabels": {"tier": "backend"}},
         "topologyKey": "topology.kubernetes.io/zone"}])"));
  EXPECT_EQ(FilterAll(pod, nodes, view), (Reasons{kAffinity, kAffinity, kAffinity, kAffinity}));
  nodes[0].AddPod(Share(MakePod("c", 0, 0, {{"app", "db"}, {"tier", "backend"}})));
  EXPECT_EQ(FilterAll(pod, nodes, view), (Reasons{"", kAffinity, kAffinity, kAffinity}));

  // No labelSelector: nothing matches, not even the pod itself.
  PodInfo nil = AffinityPod(
      "web", R"({"app": "db"})",
      RequiredAffinity("podAffinity", R"([{"topologyKey": "kubernetes.io/hostname"}])"));
  EXPECT_EQ(FilterAll(nil, nodes, view), (Reasons{kAffinity, kAffinity, kAffinity, kAffinity}));
  // An empty one matches every pod (in the namespace).
  PodInfo empty = AffinityPod(
      "web", R"({})",
      RequiredAffinity("podAffinity",
                       R"([{"labelSelector": {}, "topologyKey": "kubernetes.io/hostname"}])"));
  EXPECT_EQ(FilterAll(empty, nodes, view), (Reasons{"", kAffinity, kAffinity, kAffinity}));
}

TEST(InterPodAffinityTest, RequiredAntiAffinity) {
  std::vector<NodeInfo> nodes = ZonedNodes();
  nodes[0].AddPod(Share(MakePod("web-0", 0, 0, {{"app", "web"}})));
  nodes[3].AddPod(Share(MakePod("web-1", 0, 0, {{"app", "web"}})));
  ClusterView view = View(nodes);
  PodInfo host = AffinityPod(
      "web-2", R"({"app": "web"})",
      RequiredAffinity("podAntiAffinity", R"([{"labelSelector": {"matchLabels": {"app": "web"}},
                                               "topologyKey": "kubernetes.io/hostname"}])"));
  EXPECT_EQ(FilterAll(host, nodes, view), (Reasons{kAnti, "", "", kAnti}));
  PodInfo zone = AffinityPod(
      "web-2", R"({"app": "web"})",
      RequiredAffinity("podAntiAffinity", R"([{"labelSelector": {"matchLabels": {"app": "web"}},
                                               "topologyKey": "topology.kubernetes.io/zone"}])"));
  // n4 has no zone, so no zone domain to share.
  EXPECT_EQ(FilterAll(zone, nodes, view), (Reasons{kAnti, kAnti, "", ""}));
  // Pods in other namespaces are not the term's concern.
  PodInfo other = zone;
  other.namespace_ = "other";
  other.key = "other/web-2";
  EXPECT_EQ(FilterAll(other, nodes, view), (Reasons{"", "", "", ""}));
  // No labelSelector: nothing to keep away from.
  PodInfo nil = AffinityPod(
      "web-2", R"({"app": "web"})",
      RequiredAffinity("podAntiAffinity", R"([{"topologyKey": "kubernetes.io/hostname"}])"));
  EXPECT_EQ(FilterAll(nil, nodes, view), (Reasons{"", "", "", ""}));
  // Affinity is checked before anti-affinity.
  PodInfo both = zone;
  both.required_affinity = nil.required_anti_affinity;
  EXPECT_EQ(FilterAll(both, nodes, view), (Reasons{kAffinity, kAffinity, kAffinity, kAffinity}));
}

TEST(InterPodAffinityTest, ExistingPodsAntiAffinity) {
  std::vector<NodeInfo> nodes = ZonedNodes();
  nodes[0].AddPod(Share(AffinityPod(
      "lonely", R"({"app": "lonely"})",
      RequiredAffinity("podAntiAffinity", R"([{"labelSelector": {"matchLabels": {"app": "web"}},
                                               "topologyKey": "topology.kubernetes.io/zone"}])"))));
  ClusterView view = View(nodes);
  PodInfo web = MakePod("web", 0, 0, {{"app", "web"}});
  EXPECT_EQ(FilterAll(web, nodes, view), (Reasons{kExisting, kExisting, "", ""}));
  EXPECT_EQ(FilterAll(MakePod("db", 0, 0, {{"app", "db"}}), nodes, view),
            (Reasons{"", "", "", ""}));
  // The existing pod's term means its own namespace.
  PodInfo elsewhere = MakePod("web", 0, 0, {{"app", "web"}}, "other");
  EXPECT_EQ(FilterAll(elsewhere, nodes, view), (Reasons{"", "", "", ""}));
  nodes[0].RemovePod("default/lonely");
  EXPECT_EQ(FilterAll(web, nodes, view), (Reasons{"", "", "", ""}));
}

// ---- scores

std::vector<int64_t> Scores(const PodInfo& pod, const std::vector<NodeInfo>& nodes,
                            const ClusterView& view) {
  std::vector<const NodeInfo*> feasible(view.nodes.begin(), view.nodes.end());
  EXPECT_EQ(feasible.size(), nodes.size());
  return ScoreNodes(pod, feasible, view);
}

std::vector<int64_t> Minus(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    out.push_back(a[i] - b[i]);
  return out;
}

TEST(ScoreNodesTest, LeastAllocatedAndBalancedAllocation) {
  std::vector<NodeInfo> nodes = {MakeNode("a"), MakeNode("b")};
  nodes[1].AddPod(Share(MakePod("busy", 3000, kGi)));
  ClusterView view = View(nodes);
  // a: least (75 + 87) / 2 = 81, balanced 100 * (1 - |0.25 - 0.125| / 2) = 93;
  // b: least (0 + 75) / 2 = 37, balanced 100 * (1 - |1 - 0.25| / 2) = 62;
  // and 100 * 3 from TaintToleration (no taints) on both.
  EXPECT_EQ(Scores(MakePod("p", 1000, kGi), nodes, view), (std::vector<int64_t>{474, 399}));
}

TEST(ScoreNodesTest, BestEffortPodsCountAtTheDefaultsAndSkipBalance) {
  std::vector<NodeInfo> nodes = {MakeNode("a"), MakeNode("b")};
  for (NodeInfo& node : nodes)
    node.allocatable = {1000, 1000 * kMi, 0, 110};
  nodes[1].AddPod(Share(MakePod("other")));
  ClusterView view = View(nodes);
  // a: cpu 100/1000 -> 90, memory 200Mi/1000Mi -> 80: 85.
  // b: cpu 200/1000 -> 80, memory 400Mi/1000Mi -> 60: 70.
  EXPECT_EQ(Scores(MakePod("p"), nodes, view), (std::vector<int64_t>{385, 370}));
}

TEST(ScoreNodesTest, PreferredNodeAffinityIsNormalisedAndWeighted) {
  std::vector<NodeInfo> nodes = {MakeNode("none"), MakeNode("zone", {{"zone", "a"}}),
                                 MakeNode("ssd", {{"disk", "ssd"}}),
                                 MakeNode("both", {{"zone", "a"}, {"disk", "ssd"}})};
  ClusterView view = View(nodes);
  PodInfo plain = MakePod("p", 100, kMi);
  PodInfo pod = plain;
  pod.preferred_node_terms = {{2, {{{"zone", "In", {"a"}}}, {}}},
                              {6, {{{"disk", "Exists", {}}}, {}}},
                              {50, {}}};  // an empty term matches nothing
  // 0, 2, 6, 8 out of 8 -> 0, 25, 75, 100, weighted 2.
  EXPECT_EQ(Minus(Scores(pod, nodes, view), Scores(plain, nodes, view)),
            (std::vector<int64_t>{0, 50, 150, 200}));
}

TEST(ScoreNodesTest, FewerIntolerablePreferNoScheduleTaintsScoreHigher) {
  std::vector<NodeInfo> nodes = {MakeNode("clean"), MakeNode("one"), MakeNode("two")};
  nodes[1].taints = {{"soft", "a", "PreferNoSchedule"}, {"hard", "", "NoSchedule"}};
  nodes[2].taints = {{"soft", "a", "PreferNoSchedule"}, {"other", "", "PreferNoSchedule"}};
  ClusterView view = View(nodes);
  PodInfo pod = MakePod("p", 100, kMi);
  std::vector<int64_t> base = Scores(pod, nodes, view);
  // 0, 1, 2 intolerable -> 100, 50, 0, weighted 3.
  EXPECT_EQ(base[0] - base[1], 150);
  EXPECT_EQ(base[0] - base[2], 300);
  // A NoSchedule toleration does not count for scoring; an effect-less one does.
  pod.tolerations = {{"soft", true, "", "NoSchedule"}};
  EXPECT_EQ(Scores(pod, nodes, view), base);
  pod.tolerations = {{"soft", true, "", ""}};
  std::vector<int64_t> tolerant = Scores(pod, nodes, view);
  // Now 0, 0, 1 -> 100, 100, 0.
  EXPECT_EQ(tolerant[0] - tolerant[1], 0);
  EXPECT_EQ(tolerant[0] - tolerant[2], 300);
}

TEST(ScoreNodesTest, PreferredPodAffinityAndAntiAffinity) {
  std::vector<NodeInfo> nodes = ZonedNodes();
  nodes[1].AddPod(Share(MakePod("db", 0, 0, {{"app", "db"}})));
  nodes[0].AddPod(Share(MakePod("web", 0, 0, {{"app", "web"}})));
  ClusterView view = View(nodes);
  PodInfo plain = MakePod("p", 100, kMi);
  PodInfo pod = AffinityPod("p", "{}", R"({
    "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 10, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "db"}},
                                         "topologyKey": "topology.kubernetes.io/zone"}}]},
    "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 5, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}},
                                        "topologyKey": "kubernetes.io/hostname"}}]}})");
  pod.requests = plain.requests;
  // Domains: zone a +10, host n1 -5. Nodes: 5, 10, 0, 0 -> min-max 50,
  // 100, 0, 0, weighted 2.
  EXPECT_EQ(Minus(Scores(pod, nodes, view), Scores(plain, nodes, view)),
            (std::vector<int64_t>{100, 200, 0, 0}));
}

TEST(ScoreNodesTest, ExistingPodsTermsScoreTheIncomingPod) {
  std::vector<NodeInfo> nodes = ZonedNodes();
  // A required affinity term counts hardPodAffinityWeight (1), preferred
  // terms their weight, anti-affinity negatively.
  nodes[0].AddPod(
      Share(AffinityPod("likes", "{}",
                        R"({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "me"}},
         "topologyKey": "kubernetes.io/hostname"}]}})")));
  nodes[2].AddPod(
      Share(AffinityPod("dislikes", "{}",
                        R"({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 3, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "me"}},
                                          "topologyKey": "topology.kubernetes.io/zone"}}]}})")));
  ClusterView view = View(nodes);
  PodInfo me = MakePod("me", 100, kMi, {{"app", "me"}});
  PodInfo stranger = MakePod("stranger", 100, kMi, {{"app", "other"}});
  // me: n1 +1, n3 -3, others 0 -> (s + 3) * 100 / 4: 100, 75, 0, 75.
  EXPECT_EQ(Minus(Scores(me, nodes, view), Scores(stranger, nodes, view)),
            (std::vector<int64_t>{200, 150, 0, 150}));
}

TEST(ScoreNodesTest, SpreadsAControllersPods) {
  std::vector<NodeInfo> nodes = {MakeNode("a"), MakeNode("b"), MakeNode("c")};
  auto sibling = [](const std::string& name, const std::string& controller) {
    PodInfo p = MakePod(name, 100, kMi);
    p.controller_uid = controller;
    return Share(p);
  };
  nodes[0].AddPod(sibling("r1", "rs"));
  nodes[0].AddPod(sibling("r2", "rs"));
  nodes[1].AddPod(sibling("r3", "rs"));
  nodes[1].AddPod(sibling("x1", "other"));
  nodes[2].AddPod(sibling("x2", "other"));
  nodes[2].AddPod(sibling("x3", "other"));
  ClusterView view = View(nodes);
  PodInfo plain = MakePod("r4", 100, kMi);
  PodInfo pod = plain;
  pod.controller_uid = "rs";
  // 2, 1, 0 siblings -> 0, 50, 100, weighted 2.
  EXPECT_EQ(Minus(Scores(pod, nodes, view), Scores(plain, nodes, view)),
            (std::vector<int64_t>{0, 100, 200}));
  // A first pod scores every node alike.
  pod.controller_uid = "new";
  std::vector<int64_t> diff = Minus(Scores(pod, nodes, view), Scores(plain, nodes, view));
  EXPECT_EQ(diff, (std::vector<int64_t>{200, 200, 200}));
}

TEST(ScoreNodesTest, ScoresOnlyTheFeasibleNodesInOrder) {
  std::vector<NodeInfo> nodes = {MakeNode("a"), MakeNode("b")};
  nodes[0].AddPod(Share(MakePod("busy", 2000, 4 * kGi)));
  ClusterView view = View(nodes);
  PodInfo pod = MakePod("p", 1000, kGi);
  std::vector<int64_t> both = ScoreNodes(pod, {&nodes[0], &nodes[1]}, view);
  std::vector<int64_t> reversed = ScoreNodes(pod, {&nodes[1], &nodes[0]}, view);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_LT(both[0], both[1]);
  EXPECT_EQ(reversed, (std::vector<int64_t>{both[1], both[0]}));
  EXPECT_TRUE(ScoreNodes(pod, {}, view).empty());
}

// ---- failure message

TEST(FailureMessageTest, CountsReasonsSortedAsUpstreamPrintsThem) {
  EXPECT_EQ(FailureMessage(3, {{"Insufficient cpu", 1},
                               {"node(s) had untolerated taint {dedicated: gpu}", 2}}),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
            "{dedicated: gpu}.");
  // Sorted as "<count> <reason>" strings.
  EXPECT_EQ(FailureMessage(5, {{"Insufficient cpu", 3}, {"node(s) were not ready", 2}}),
            "0/5 nodes are available: 2 node(s) were not ready, 3 Insufficient cpu.");
  EXPECT_EQ(FailureMessage(12, {{"b", 10}, {"a", 2}}), "0/12 nodes are available: 10 b, 2 a.");
  EXPECT_EQ(FailureMessage(2, {}), "0/2 nodes are available.");
  EXPECT_EQ(FailureMessage(0, {}), "no nodes available to schedule pods");
}

}  // namespace
}  // namespace berth::controlplane::scheduler
