// The pieces of the Node's status computed without a server: capacity and
// allocatable, the conditions' transitions, images, change detection,
// registration labels and reconciliation, pressure, addresses.

#include "agent/node/node_status.h"

#include <gtest/gtest.h>

#include "agent/config/quantity.h"
#include "agent/node/machine_info.h"
#include "agent/node/node_addresses.h"
#include "agent/node/node_lease.h"
#include "agent/node/node_registration.h"
#include "agent/node/pressure.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;

bj::object* Condition(bj::object& status, const std::string& type) {
  for (bj::value& c : status["conditions"].as_array())
    if (c.at("type") == type.c_str()) return &c.as_object();
  return nullptr;
}

TEST(NodeResourcesTest, CapacityAndAllocatable) {
  NodeResources r;
  r.milli_cpu = 4000;
  r.memory = 8LL << 30;
  r.ephemeral_storage = 100LL << 30;
  r.pods = 110;
  r.hugepages = {{"hugepages-2Mi", 512LL << 20}, {"hugepages-1Gi", 0}};
  bj::object cap = CapacityJson(r);
  EXPECT_EQ(cap.at("cpu"), "4");
  EXPECT_EQ(cap.at("memory"), "8Gi");
  EXPECT_EQ(cap.at("ephemeral-storage"), "100Gi");
  EXPECT_EQ(cap.at("pods"), "110");
  EXPECT_EQ(cap.at("hugepages-2Mi"), "512Mi");
  EXPECT_EQ(cap.at("hugepages-1Gi"), "0");

  Reservation reserved = SumReserved({{"cpu", "100m"}, {"memory", "256Mi"}, {"pid", "100"}},
                                     {{"cpu", "200m"}, {"ephemeral-storage", "1Gi"}})
                             .value();
  EXPECT_EQ(reserved.milli_cpu, 300);
  bj::object alloc = AllocatableJson(r, reserved, DefaultEvictionHard());
  EXPECT_EQ(alloc.at("cpu"), "3700m");
  // 8Gi - 256Mi reserved - 100Mi eviction - 512Mi huge pages.
  EXPECT_EQ(alloc.at("memory").as_string(), FormatBinarySI((8LL << 30) - (868LL << 20)));
  // 100Gi - 1Gi - 10% of 100Gi.
  int64_t storage =
      (100LL << 30) - (1LL << 30) -
      static_cast<int64_t>(static_cast<double>(100LL << 30) * static_cast<double>(0.1F));
  EXPECT_EQ(alloc.at("ephemeral-storage").as_string(), FormatBinarySI(storage));
  EXPECT_EQ(alloc.at("hugepages-2Mi"), "512Mi");
  EXPECT_EQ(alloc.at("pods"), "110");

  // Never negative.
  bj::object none = AllocatableJson(r, Reservation{10000, 16LL << 30, 0}, {});
  EXPECT_EQ(none.at("cpu"), "0");
  EXPECT_EQ(none.at("memory"), "0");
  EXPECT_FALSE(SumReserved({{"gpu", "1"}}, {}).ok());
}

TEST(NodeConditionsTest, HeartbeatEveryTimeTransitionOnlyOnChange) {
  bj::object status{
      {"conditions", bj::array{bj::object{{"type", "NetworkUnavailable"}, {"status", "False"}}}}};
  ConditionInputs in;
  in.not_ready = {"container runtime network not ready: NetworkReady=false reason:X message:y"};
  std::vector<std::string> events = SetConditions(status, in, "2025-01-01T00:00:00Z");
  // New pressure conditions start Unknown, so their first value is a transition.
  EXPECT_EQ(events, (std::vector<std::string>{"NodeHasSufficientMemory", "NodeHasNoDiskPressure",
                                              "NodeHasSufficientPID"}));
  bj::array& list = status["conditions"].as_array();
  ASSERT_EQ(list.size(), 5U);
  EXPECT_EQ(list[0].at("type"), "NetworkUnavailable") << "others' conditions stay";
  EXPECT_EQ(list[1].at("type"), "MemoryPressure");
  EXPECT_EQ(list[4].at("type"), "Ready") << "Ready comes last";
  bj::object& ready = *Condition(status, "Ready");
  EXPECT_EQ(ready.at("status"), "False");
  EXPECT_EQ(ready.at("reason"), "KubeletNotReady");
  EXPECT_EQ(ready.at("message").as_string(), in.not_ready[0]);
  EXPECT_EQ(ready.at("lastTransitionTime"), "2025-01-01T00:00:00Z");
  bj::object& memory = *Condition(status, "MemoryPressure");
  EXPECT_EQ(memory.at("reason"), "KubeletHasSufficientMemory");
  EXPECT_EQ(memory.at("message"), "kubelet has sufficient memory available");

  in.not_ready.clear();
  events = SetConditions(status, in, "2025-01-01T00:00:10Z");
  EXPECT_EQ(events, std::vector<std::string>{"NodeReady"});
  EXPECT_EQ(Condition(status, "Ready")->at("status"), "True");
  EXPECT_EQ(Condition(status, "Ready")->at("reason"), "KubeletReady");
  EXPECT_EQ(Condition(status, "Ready")->at("message"), "kubelet is posting ready status");
  EXPECT_EQ(Condition(status, "Ready")->at("lastTransitionTime"), "2025-01-01T00:00:10Z");
  EXPECT_EQ(Condition(status, "MemoryPressure")->at("lastTransitionTime"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(Condition(status, "MemoryPressure")->at("lastHeartbeatTime"), "2025-01-01T00:00:10Z");

  in.disk_pressure = true;
  events = SetConditions(status, in, "2025-01-01T00:00:20Z");
  EXPECT_EQ(events, std::vector<std::string>{"NodeHasDiskPressure"});
  EXPECT_EQ(Condition(status, "DiskPressure")->at("reason"), "KubeletHasDiskPressure");
  EXPECT_EQ(Condition(status, "Ready")->at("lastTransitionTime"), "2025-01-01T00:00:10Z");
}

TEST(NodeConditionsTest, AggregatesReasonsAsUpstream) {
  EXPECT_EQ(AggregateMessage({"a"}), "a");
  EXPECT_EQ(AggregateMessage({"a", "b", "a"}), "[a, b]");
}

TEST(NodeImagesTest, LargestFirstCappedWithDigestsThenTags) {
  ::runtime::v1::ListImagesResponse list;
  auto add = [&](const std::string& id, uint64_t size, const std::vector<std::string>& tags,
                 const std::vector<std::string>& digests) {
    auto* i = list.add_images();
    i->set_id(id);
    i->set_size(size);
    for (const auto& t : tags)
      i->add_repo_tags(t);
    for (const auto& d : digests)
      i->add_repo_digests(d);
  };
  add("small", 10, {"busybox:1"}, {"busybox@sha256:1"});
  add("big", 1000, {"a:1", "a:2", "a:3", "a:4"}, {"a@sha256:1", "a@sha256:2"});
  add("mid", 100, {}, {});
  bj::array images = ImagesJson(list, 2);
  ASSERT_EQ(images.size(), 2U);
  EXPECT_EQ(images[0].at("sizeBytes").as_int64(), 1000);
  EXPECT_EQ(images[0].at("names"), (bj::array{"a@sha256:1", "a@sha256:2", "a:1", "a:2", "a:3"}));
  EXPECT_EQ(images[1].at("sizeBytes").as_int64(), 100);
  EXPECT_EQ(ImagesJson(list, -1).size(), 3U);
}

TEST(NodeStatusChangeTest, HeartbeatsAloneAreNoChange) {
  bj::object a{
      {"conditions",
       bj::array{bj::object{{"type", "Ready"}, {"status", "True"}, {"lastHeartbeatTime", "t1"}}}}};
  bj::object b = a;
  b["conditions"].as_array()[0].as_object()["lastHeartbeatTime"] = "t2";
  EXPECT_FALSE(StatusChanged(a, b));
  b["images"] = bj::array{};
  EXPECT_TRUE(StatusChanged(a, b));
  EXPECT_EQ(ConditionStatus(a, "Ready"), "True");
  EXPECT_EQ(ConditionStatus(a, "DiskPressure"), "");
}

TEST(NodeRegistrationTest, InitialNodeAndReconcile) {
  bj::object node = InitialNode("n1", {{"role", "db"}, {"kubernetes.io/os", "linux"}},
                                bj::array{bj::object{{"key", "k"}, {"effect", "NoSchedule"}}});
  const bj::object& labels = node.at("metadata").at("labels").as_object();
  EXPECT_EQ(labels.at("kubernetes.io/hostname"), "n1");
  EXPECT_EQ(labels.at("kubernetes.io/arch"), GoArch());
  EXPECT_EQ(labels.at("beta.kubernetes.io/os"), "linux");
  EXPECT_EQ(labels.at("role"), "db");
  EXPECT_EQ(node.at("metadata").at("annotations").at(kControllerManagedAttachDetach), "true");
  EXPECT_EQ(node.at("spec").at("taints").as_array().size(), 1U);

  EXPECT_FALSE(ReconcilePatch(node, node).has_value());
  bj::object existing = node;
  bj::object& have = existing["metadata"].as_object()["labels"].as_object();
  have["kubernetes.io/hostname"] = "old";
  have.erase("beta.kubernetes.io/arch");
  have["topology.kubernetes.io/zone"] = "z1";  // a default label kubelet no longer sets
  have["role"] = "web";                        // --node-labels: creation only
  existing["metadata"].as_object().erase("annotations");
  auto patch = ReconcilePatch(node, existing);
  ASSERT_TRUE(patch.has_value());
  const bj::object& l = patch->at("metadata").at("labels").as_object();
  EXPECT_EQ(l.at("kubernetes.io/hostname"), "n1");
  EXPECT_EQ(l.at("beta.kubernetes.io/arch"), GoArch());
  EXPECT_TRUE(l.at("topology.kubernetes.io/zone").is_null());
  EXPECT_FALSE(l.contains("role"));
  EXPECT_EQ(patch->at("metadata").at("annotations").at(kControllerManagedAttachDetach), "true");
}

TEST(NodePressureTest, ThresholdsAgainstObservations) {
  Observations o;
  o.memory = MemoryStats{1000LL << 20, 90LL << 20};
  o.nodefs = FsStats{1000, 200, 1000, 500};
  o.pids = PidStats{1000, 950};
  Pressure p = UnderPressure(DefaultEvictionHard(), o);
  EXPECT_TRUE(p.memory) << "90Mi available < 100Mi";
  EXPECT_FALSE(p.disk);
  EXPECT_FALSE(p.pid) << "no pid.available threshold";
  o.imagefs = FsStats{1000, 100, 1000, 500};  // 10% < 15%
  EXPECT_TRUE(UnderPressure(DefaultEvictionHard(), o).disk);
  auto pid = ParseEvictionThresholds({{"pid.available", "10%"}}, "e").value();
  EXPECT_TRUE(UnderPressure(pid, o).pid) << "50 free of 1000 < 10%";
  EXPECT_FALSE(UnderPressure({}, o).memory);
}

TEST(NodeAddressesTest, NamesAndIps) {
  EXPECT_EQ(NodeHostname("  Node-A.Example  ").value(), "node-a.example");
  EXPECT_FALSE(NodeHostname("   ").ok());
  EXPECT_EQ(ParseNodeIps({"10.0.0.1", "fd00::0001"}).value(),
            (std::vector<std::string>{"10.0.0.1", "fd00::1"}));
  EXPECT_FALSE(ParseNodeIps({"10.0.0.1", "10.0.0.2"}).ok());
  EXPECT_FALSE(ParseNodeIps({"0.0.0.0"}).ok());
  EXPECT_FALSE(ParseNodeIps({"node"}).ok());
  EXPECT_EQ(DefaultNodeIp("192.168.7.7").value(), "192.168.7.7");
  Result<std::string> guessed = DefaultNodeIp("no-such-host.invalid");
  if (guessed.ok()) {
    EXPECT_FALSE(guessed->starts_with("127.")) << *guessed;
    EXPECT_NE(*guessed, "::1");
  } else {
    EXPECT_NE(guessed.error().str().find("can't get ip address of node"), std::string::npos);
  }
}

TEST(NodeLeaseTest, MicroTime) {
  EXPECT_EQ(FormatMicroTime({1735689600, 123456789}), "2025-01-01T00:00:00.123456Z");
}

}  // namespace
}  // namespace berth::agent
