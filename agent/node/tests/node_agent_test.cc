// The node agent against a berth server in this process, with its own
// node credential (so the node authorizer applies) and a fake CRI runtime:
// registration, reconciliation of an existing Node, the status it posts,
// condition transitions, posting only on change, the Lease.

#include "agent/node/node_agent.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "agent/config/quantity.h"
#include "agent/node/tests/fake_runtime.h"
#include "common/time.h"
#include "controlplane/server/tests/node_client.h"
#include "controlplane/server/tests/test_server.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using controlplane::client::ApiClient;
using controlplane::client::ClientConfig;
using namespace std::chrono_literals;

class NodeAgentTest : public controlplane::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    admin_api_ = std::make_unique<ApiClient>(AdminConfig());
    node_api_ = std::make_unique<ApiClient>(
        controlplane::NodeClientConfig(AdminConfig(), server_->pki().ca, "n1"));
    options_.node_name = "n1";
    options_.node_ips = {"10.0.0.5"};
    options_.labels = {{"role", "db"}};
    options_.taints = bj::array{bj::object{{"key", "dedicated"}, {"effect", "NoSchedule"}}};
    options_.root_dir = root_.path();
    // No disk or memory thresholds: the test machine's own usage must not
    // decide the conditions.
    options_.eviction_hard = {};
    options_.system_reserved = {{"cpu", "100m"}, {"memory", "100Mi"}};
    options_.status_update_frequency = 200ms;
    options_.lease_duration = 2s;
    options_.wall_clock = [this] { return timespec{clock_.load(), 0}; };
    runtime_.state().images = {FakeRuntime::Image("busybox:1.36", "aa", 4 << 20),
                               FakeRuntime::Image("app:v1", "bb", 40 << 20)};
  }
  void TearDown() override {
    if (agent_) agent_->Stop();
  }

  using FakeRuntime = testing::FakeRuntime;

  NodeAgent& Agent() {
    if (!agent_) agent_ = std::make_unique<NodeAgent>(*node_api_, runtime_.cri(), options_);
    return *agent_;
  }

  bj::object Get(const std::string& path) {
    auto r = admin_api_->Do("GET", path);
    EXPECT_TRUE(r.ok());
    if (!r.ok() || r->status != 200) return {};
    return r->Json().as_object();
  }
  bj::object Node() { return Get("/api/v1/nodes/n1"); }
  bj::object Lease() {
    return Get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1");
  }

  static const bj::object* Condition(const bj::object& node, const std::string& type) {
    const bj::value* status = node.if_contains("status");
    if (status == nullptr) return nullptr;
    const bj::value* list = status->as_object().if_contains("conditions");
    if (list == nullptr) return nullptr;
    for (const bj::value& c : list->as_array())
      if (c.at("type") == type.c_str()) return &c.as_object();
    return nullptr;
  }
  static std::string Field(const bj::object* c, const char* key) {
    return c != nullptr && c->contains(key) ? std::string(c->at(key).as_string()) : "";
  }

  // Polls (5 s) until `pred(Node())`.
  template <class Pred>
  bool WaitNode(Pred pred) {
    for (int i = 0; i < 250; ++i) {
      if (pred(Node())) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::atomic<time_t> clock_{1735689600};  // 2025-01-01T00:00:00Z
  berth::testing::TempDir root_{"berth-node-root"};
  FakeRuntime runtime_;
  std::unique_ptr<ApiClient> admin_api_, node_api_;
  NodeOptions options_;
  std::unique_ptr<NodeAgent> agent_;
};

TEST_F(NodeAgentTest, RegistersTheNodeWithItsStatus) {
  EXPECT_TRUE(Agent().Allocatable().contains("cpu")) << "known before registration";
  Status s = Agent().Register();
  ASSERT_TRUE(s.ok()) << s.error().str();
  bj::object node = Node();
  ASSERT_FALSE(node.empty());
  const bj::object& labels = node.at("metadata").at("labels").as_object();
  EXPECT_EQ(labels.at("kubernetes.io/hostname"), "n1");
  EXPECT_EQ(labels.at("kubernetes.io/os"), "linux");
  EXPECT_EQ(labels.at("kubernetes.io/arch"), GoArch());
  EXPECT_EQ(labels.at("beta.kubernetes.io/arch"), GoArch());
  EXPECT_EQ(labels.at("role"), "db");
  EXPECT_EQ(node.at("metadata")
                .at("annotations")
                .at("volumes.kubernetes.io/controller-managed-attach-detach"),
            "true");
  EXPECT_EQ(node.at("spec").at("taints").at(0).at("key"), "dedicated");

  const bj::object& status = node.at("status").as_object();
  MachineInfo machine = ReadMachineInfo().value();
  EXPECT_EQ(status.at("capacity").at("cpu").as_string(), FormatDecimalMilli(machine.milli_cpu));
  EXPECT_EQ(status.at("capacity").at("memory").as_string(), FormatBinarySI(machine.memory_bytes));
  EXPECT_EQ(status.at("capacity").at("pods"), "110");
  EXPECT_TRUE(status.at("capacity").as_object().contains("ephemeral-storage"));
  EXPECT_EQ(status.at("allocatable").at("cpu").as_string(),
            FormatDecimalMilli(machine.milli_cpu - 100));
  int64_t hugepages = 0;
  for (const auto& [name, bytes] : machine.hugepages)
    hugepages += bytes;
  EXPECT_EQ(status.at("allocatable").at("memory").as_string(),
            FormatBinarySI(std::max<int64_t>(0, machine.memory_bytes - (100 << 20) - hugepages)));
  EXPECT_EQ(Agent().Allocatable(), status.at("allocatable").as_object());
  EXPECT_EQ(status.at("addresses"),
            (bj::array{bj::object{{"type", "InternalIP"}, {"address", "10.0.0.5"}},
                       bj::object{{"type", "Hostname"}, {"address", "n1"}}}));
  const bj::object& info = status.at("nodeInfo").as_object();
  EXPECT_EQ(info.at("kubeletVersion"), kKubeletVersion);
  EXPECT_EQ(info.at("containerRuntimeVersion"), "fake://1.2.3");
  EXPECT_EQ(info.at("operatingSystem"), "linux");
  EXPECT_EQ(info.at("architecture"), GoArch());
  EXPECT_EQ(info.at("bootID").as_string(), machine.boot_id);
  EXPECT_EQ(info.at("machineID").as_string(), machine.machine_id);
  EXPECT_FALSE(info.at("kernelVersion").as_string().empty());
  EXPECT_FALSE(info.at("osImage").as_string().empty());
  EXPECT_EQ(status.at("daemonEndpoints").at("kubeletEndpoint").at("Port").to_number<int>(), 10250);
  ASSERT_EQ(status.at("images").as_array().size(), 2U);
  EXPECT_EQ(status.at("images").at(0).at("names"),
            (bj::array{"example.com/img@sha256:bb", "app:v1"}))
      << "largest first, digests then tags";
  EXPECT_EQ(status.at("runtimeHandlers").at(0).at("features").at("recursiveReadOnlyMounts"), true);
  EXPECT_EQ(status.at("features").at("supplementalGroupsPolicy"), true);

  const bj::array& conditions = status.at("conditions").as_array();
  ASSERT_EQ(conditions.size(), 4U);
  EXPECT_EQ(conditions[0].at("type"), "MemoryPressure");
  EXPECT_EQ(conditions[3].at("type"), "Ready");
  const bj::object* ready = Condition(node, "Ready");
  EXPECT_EQ(Field(ready, "status"), "True");
  EXPECT_EQ(Field(ready, "reason"), "KubeletReady");
  EXPECT_EQ(Field(ready, "message"), "kubelet is posting ready status");
  EXPECT_EQ(Field(ready, "lastHeartbeatTime"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Field(Condition(node, "DiskPressure"), "reason"), "KubeletHasNoDiskPressure");
  EXPECT_EQ(Field(Condition(node, "PIDPressure"), "status"), "False");
  EXPECT_TRUE(Agent().Registered());
}

TEST_F(NodeAgentTest, ReconcilesANodeThatExists) {
  bj::object existing{
      {"metadata", bj::object{{"name", "n1"},
                              {"labels", bj::object{{"kubernetes.io/hostname", "old-name"},
                                                    {"kubernetes.io/os", "linux"},
                                                    {"topology.kubernetes.io/zone", "z1"},
                                                    {"team", "infra"}}}}},
      {"spec",
       bj::object{{"taints", bj::array{bj::object{{"key", "old"}, {"effect", "NoExecute"}}}}}}};
  ASSERT_EQ(admin_api_->Do("POST", "/api/v1/nodes", bj::serialize(existing))->status, 201);
  bj::object foreign{
      {"status", bj::object{{"conditions", bj::array{bj::object{{"type", "NetworkUnavailable"},
                                                                {"status", "False"},
                                                                {"reason", "RouteCreated"}}}}}}};
  ASSERT_EQ(admin_api_
                ->Do("PATCH", "/api/v1/nodes/n1/status", bj::serialize(foreign),
                     "application/merge-patch+json")
                ->status,
            200);

  Status s = Agent().Register();
  ASSERT_TRUE(s.ok()) << s.error().str();
  bj::object node = Node();
  const bj::object& labels = node.at("metadata").at("labels").as_object();
  EXPECT_EQ(labels.at("kubernetes.io/hostname"), "n1");
  EXPECT_EQ(labels.at("kubernetes.io/arch"), GoArch());
  EXPECT_EQ(labels.at("beta.kubernetes.io/os"), "linux");
  EXPECT_FALSE(labels.contains("topology.kubernetes.io/zone")) << "kubelet owns it, sets none";
  EXPECT_EQ(labels.at("team"), "infra") << "others' labels stay";
  EXPECT_FALSE(labels.contains("role")) << "--node-labels apply at creation only";
  EXPECT_EQ(node.at("spec").at("taints").at(0).at("key"), "old") << "taints: creation only";
  EXPECT_EQ(Field(Condition(node, "NetworkUnavailable"), "reason"), "RouteCreated");
  EXPECT_EQ(Field(Condition(node, "Ready"), "status"), "True");
  EXPECT_EQ(node.at("status").at("nodeInfo").at("kubeletVersion"), kKubeletVersion);
}

TEST_F(NodeAgentTest, ConditionsTransitionAndHeartbeat) {
  options_.status_update_frequency = 10s;  // only Poke and the fast path post
  Agent().Start();
  ASSERT_TRUE(WaitNode(
      [&](const bj::object& n) { return Field(Condition(n, "Ready"), "status") == "True"; }));
  std::string t0 = Field(Condition(Node(), "Ready"), "lastTransitionTime");
  EXPECT_EQ(t0, "2025-01-01T00:00:00Z");

  clock_ += 10;
  {
    std::lock_guard lock(runtime_.state().mu);
    runtime_.state().network_ready = false;
    runtime_.state().network_reason = "NetworkPluginNotReady";
    runtime_.state().network_message = "cni plugin not initialized";
  }
  Agent().Poke();
  ASSERT_TRUE(WaitNode(
      [&](const bj::object& n) { return Field(Condition(n, "Ready"), "status") == "False"; }));
  bj::object node = Node();
  const bj::object* ready = Condition(node, "Ready");
  EXPECT_EQ(Field(ready, "reason"), "KubeletNotReady");
  EXPECT_EQ(Field(ready, "message"),
            "container runtime network not ready: NetworkReady=false "
            "reason:NetworkPluginNotReady message:cni plugin not initialized");
  EXPECT_EQ(Field(ready, "lastTransitionTime"), "2025-01-01T00:00:10Z");
  EXPECT_EQ(Field(ready, "lastHeartbeatTime"), "2025-01-01T00:00:10Z");
  const bj::object* memory = Condition(node, "MemoryPressure");
  EXPECT_EQ(Field(memory, "lastTransitionTime"), t0) << "unchanged: no transition";
  EXPECT_EQ(Field(memory, "lastHeartbeatTime"), "2025-01-01T00:00:10Z");

  // Ready again, without a Poke: the fast path sees the runtime recover.
  clock_ += 5;
  {
    std::lock_guard lock(runtime_.state().mu);
    runtime_.state().network_ready = true;
  }
  ASSERT_TRUE(WaitNode(
      [&](const bj::object& n) { return Field(Condition(n, "Ready"), "status") == "True"; }));
  EXPECT_EQ(Field(Condition(Node(), "Ready"), "lastTransitionTime"), "2025-01-01T00:00:15Z");
}

TEST_F(NodeAgentTest, ARuntimeThatIsNotReadyAndAFailingHealthCheck) {
  {
    std::lock_guard lock(runtime_.state().mu);
    runtime_.state().runtime_ready = false;
  }
  std::atomic<bool> healthy = true;
  Agent().AddHealthCheck("PLEG", [&]() -> std::optional<std::string> {
    if (healthy) return std::nullopt;
    return "pleg was last seen active 3m0s ago; threshold is 3m0s";
  });
  ASSERT_TRUE(Agent().Register().ok());
  const bj::object* ready = nullptr;
  bj::object node = Node();
  ready = Condition(node, "Ready");
  EXPECT_EQ(Field(ready, "status"), "False");
  // As upstream: a runtime never ready has never been synced either.
  EXPECT_EQ(Field(ready, "message"),
            "[container runtime status check may not have completed yet, container runtime not "
            "ready: RuntimeReady=false reason:NotStarted message:still starting]");

  {
    std::lock_guard lock(runtime_.state().mu);
    runtime_.state().runtime_ready = true;
  }
  healthy = false;
  Agent().Start();
  ASSERT_TRUE(WaitNode([&](const bj::object& n) {
    return Field(Condition(n, "Ready"), "message").starts_with("PLEG is not healthy");
  })) << bj::serialize(Node());
  healthy = true;
  ASSERT_TRUE(WaitNode(
      [&](const bj::object& n) { return Field(Condition(n, "Ready"), "status") == "True"; }));
}

TEST_F(NodeAgentTest, PostsOnlyOnChangeOrWhenAReportIsDue) {
  options_.status_update_frequency = 100ms;
  Agent().Start();
  ASSERT_TRUE(WaitNode(
      [&](const bj::object& n) { return Field(Condition(n, "Ready"), "status") == "True"; }));
  auto rv = [&] { return std::string(Node().at("metadata").at("resourceVersion").as_string()); };
  std::string before = rv();
  clock_ += 30;  // heartbeats would differ, but nothing else does
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(rv(), before) << "no change, no report due: no post";

  {
    std::lock_guard lock(runtime_.state().mu);
    runtime_.state().images.push_back(FakeRuntime::Image("huge:1", "cc", 400 << 20));
  }
  ASSERT_TRUE(WaitNode(
      [&](const bj::object& n) { return n.at("status").at("images").as_array().size() == 3; }));
  bj::object node = Node();
  EXPECT_EQ(node.at("status").at("images").at(0).at("names").at(1), "huge:1");
  EXPECT_EQ(Field(Condition(node, "Ready"), "lastHeartbeatTime"), "2025-01-01T00:00:30Z");
  EXPECT_EQ(Field(Condition(node, "Ready"), "lastTransitionTime"), "2025-01-01T00:00:00Z");
}

TEST_F(NodeAgentTest, ReportsWithoutChangeAtTheReportFrequency) {
  options_.status_update_frequency = 100ms;
  options_.status_report_frequency = 400ms;
  Agent().Start();
  ASSERT_TRUE(WaitNode(
      [&](const bj::object& n) { return Field(Condition(n, "Ready"), "status") == "True"; }));
  clock_ += 60;
  EXPECT_TRUE(WaitNode([&](const bj::object& n) {
    return Field(Condition(n, "Ready"), "lastHeartbeatTime") == "2025-01-01T00:01:00Z";
  }));
}

TEST_F(NodeAgentTest, TheLeaseIsCreatedOwnedAndRenewed) {
  Agent().Start();
  bj::object lease;
  for (int i = 0; i < 250; ++i) {
    lease = Lease();
    if (!lease.empty() && lease.at("metadata").as_object().contains("ownerReferences")) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(lease.empty());
  EXPECT_EQ(lease.at("spec").at("holderIdentity"), "n1");
  EXPECT_EQ(lease.at("spec").at("leaseDurationSeconds").to_number<int>(), 2);
  ASSERT_TRUE(lease.at("metadata").as_object().contains("ownerReferences"));
  const bj::value& owner = lease.at("metadata").at("ownerReferences").at(0);
  EXPECT_EQ(owner.at("kind"), "Node");
  EXPECT_EQ(owner.at("name"), "n1");
  EXPECT_EQ(owner.at("uid"), Node().at("metadata").at("uid"));

  std::string renewed(lease.at("spec").at("renewTime").as_string());
  clock_ += 1;
  // Renewed every duration / 4 = 500 ms.
  bool changed = false;
  for (int i = 0; i < 100 && !changed; ++i) {
    std::this_thread::sleep_for(20ms);
    bj::object now = Lease();
    changed = !now.empty() && now.at("spec").at("renewTime").as_string() != renewed;
  }
  EXPECT_TRUE(changed) << "renewTime stayed " << renewed;
  EXPECT_EQ(Lease().at("spec").at("renewTime"), "2025-01-01T00:00:01.000000Z");
}

TEST_F(NodeAgentTest, PressureAndEvents) {
  // A threshold no machine meets: memory pressure, and nothing allocatable.
  options_.eviction_hard = ParseEvictionThresholds({{"memory.available", "7Ei"}}, "e").value();
  controlplane::client::ClientConfig events_config = AdminConfig();
  controlplane::client::EventRecorder recorder(events_config, "kubelet", 100, "n1");
  options_.events = &recorder;
  ASSERT_TRUE(Agent().Register().ok());
  bj::object node = Node();
  EXPECT_EQ(Field(Condition(node, "MemoryPressure"), "status"), "True");
  EXPECT_EQ(Field(Condition(node, "MemoryPressure"), "reason"), "KubeletHasInsufficientMemory");
  EXPECT_EQ(node.at("status").at("allocatable").at("memory"), "0");
  recorder.Flush();
  bj::object events = Get("/api/v1/namespaces/default/events");
  std::vector<std::string> reasons;
  for (const bj::value& e : events.at("items").as_array()) {
    EXPECT_EQ(e.at("involvedObject").at("uid"), "n1");
    EXPECT_EQ(e.at("source").at("component"), "kubelet");
    reasons.emplace_back(e.at("reason").as_string());
  }
  std::sort(reasons.begin(), reasons.end());
  EXPECT_EQ(reasons, (std::vector<std::string>{"NodeHasInsufficientMemory", "NodeHasNoDiskPressure",
                                               "NodeHasSufficientPID"}));
}

TEST_F(NodeAgentTest, WithoutRegisterNodeOnlyTheStatusOfAnExistingNode) {
  options_.register_node = false;
  Status missing = Agent().Register();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound) << missing.error().str();
  EXPECT_TRUE(Node().empty()) << "not created";

  bj::object made{{"metadata", bj::object{{"name", "n1"}}}};
  ASSERT_EQ(admin_api_->Do("POST", "/api/v1/nodes", bj::serialize(made))->status, 201);
  ASSERT_TRUE(Agent().Register().ok());
  bj::object node = Node();
  EXPECT_FALSE(node.at("metadata").as_object().contains("labels")) << "no labels of kubelet's";
  EXPECT_EQ(Field(Condition(node, "Ready"), "status"), "True");
}

TEST_F(NodeAgentTest, BadOptionsFailRegistration) {
  options_.node_ips = {"10.0.0.1", "10.0.0.2"};
  Status s = Agent().Register();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("--node-ip"), std::string::npos);
  EXPECT_TRUE(Node().empty());
}

}  // namespace
}  // namespace berth::agent
