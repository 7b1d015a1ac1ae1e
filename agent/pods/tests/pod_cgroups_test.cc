// Pod cgroups: upstream ResourceConfigForPod / setCPUCgroupConfig as pure
// logic, the paths against the sandbox's cgroup_parent, and PodCgroups
// against a fake cgroup v2 tree in a temp dir (knob files written first, as
// cgroups/tests do; the kernel is exercised by agent_pods_priv_test and the
// vm tier).

#include "agent/pods/pod_cgroups.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "agent/pods/pod_spec.h"
#include "agent/pods/sandbox_config.h"
#include "agent/pods/tests/pod_json.h"
#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using testing::PodWithSpec;

constexpr int64_t kMi = 1 << 20;

cgroups::Resources Config(std::string_view spec, PodCgroupSettings settings = {}) {
  return PodResourceConfig(PodWithSpec(spec), settings);
}

TEST(PodResourceConfigTest, BestEffortGetsTwoShares) {
  cgroups::Resources r = Config(R"({"containers": [{"name": "a"}, {"name": "b"}]})");
  ASSERT_TRUE(r.cpu.has_value());
  EXPECT_EQ(r.cpu->shares, 2u);
  EXPECT_FALSE(r.cpu->quota.has_value());
  EXPECT_FALSE(r.cpu->period.has_value());
  EXPECT_FALSE(r.memory.has_value());
  EXPECT_FALSE(r.pids_limit.has_value());
}

TEST(PodResourceConfigTest, BurstableLimitsOnlyWhenEveryContainerHasThem) {
  // Both have memory limits, only one a cpu limit: memory is the sum, cpu
  // gets shares from the summed requests and no quota.
  cgroups::Resources r = Config(R"({"containers": [
      {"name": "a", "resources": {"requests": {"cpu": "100m"},
                                  "limits": {"memory": "32Mi", "cpu": "1"}}},
      {"name": "b", "resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "16Mi"}}}]})");
  ASSERT_TRUE(r.cpu.has_value());
  EXPECT_EQ(r.cpu->shares, 358u);  // 350m * 1024 / 1000
  EXPECT_FALSE(r.cpu->quota.has_value());
  EXPECT_FALSE(r.cpu->period.has_value());
  ASSERT_TRUE(r.memory.has_value());
  EXPECT_EQ(r.memory->limit, 48 * kMi);

  // Every container has a cpu limit, one lacks a memory limit.
  r = Config(R"({"containers": [
      {"name": "a", "resources": {"limits": {"cpu": "500m", "memory": "32Mi"}}},
      {"name": "b", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "250m"}}}]})");
  // a's request defaults to its limit: 500m + 100m.
  EXPECT_EQ(r.cpu->shares, 614u);
  EXPECT_EQ(r.cpu->quota, 75000);
  EXPECT_EQ(r.cpu->period, 100000u);
  EXPECT_FALSE(r.memory.has_value());
}

TEST(PodResourceConfigTest, GuaranteedSetsEverything) {
  cgroups::Resources r = Config(R"({"containers": [
      {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "64Mi"}}},
      {"name": "b", "resources": {"limits": {"cpu": "500m", "memory": "32Mi"}}}]})");
  EXPECT_EQ(QosClass(PodWithSpec(R"({"containers": [
      {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "64Mi"}}}]})")),
            "Guaranteed");
  EXPECT_EQ(r.cpu->shares, 1536u);
  EXPECT_EQ(r.cpu->quota, 150000);
  EXPECT_EQ(r.cpu->period, 100000u);
  EXPECT_EQ(r.memory->limit, 96 * kMi);
}

TEST(PodResourceConfigTest, InitContainersCountAsUpstreamAggregates) {
  // Containers + sidecar: 300m, 80Mi; the init container runs next to the
  // sidecar started before it: 1100m, 48Mi. The larger of each wins.
  cgroups::Resources r = Config(R"({
      "initContainers": [
        {"name": "s", "restartPolicy": "Always",
         "resources": {"limits": {"cpu": "100m", "memory": "16Mi"}}},
        {"name": "i", "resources": {"limits": {"cpu": "1", "memory": "32Mi"}}}],
      "containers": [
        {"name": "c", "resources": {"limits": {"cpu": "200m", "memory": "64Mi"}}}]})");
  EXPECT_EQ(r.cpu->quota, 110000);
  EXPECT_EQ(r.memory->limit, 80 * kMi);
  EXPECT_EQ(r.cpu->shares, MilliCpuToShares(1100));

  // An init container without a memory limit leaves the pod without one.
  r = Config(R"({
      "initContainers": [{"name": "i", "resources": {"limits": {"cpu": "1"}}}],
      "containers": [
        {"name": "c", "resources": {"limits": {"cpu": "200m", "memory": "64Mi"}}}]})");
  EXPECT_FALSE(r.memory.has_value());
  EXPECT_EQ(r.cpu->quota, 100000);
}

TEST(PodResourceConfigTest, OverheadAddsToRequestsAndToTheLimitsThatAreSet) {
  cgroups::Resources r = Config(R"({
      "overhead": {"cpu": "250m", "memory": "8Mi"},
      "containers": [{"name": "c", "resources": {"requests": {"cpu": "250m"},
                                                 "limits": {"memory": "32Mi"}}}]})");
  EXPECT_EQ(r.cpu->shares, 512u);  // 250m + 250m
  EXPECT_FALSE(r.cpu->quota.has_value());
  EXPECT_EQ(r.memory->limit, 40 * kMi);
}

TEST(PodResourceConfigTest, SettingsQuotaOffAndPidsLimit) {
  PodCgroupSettings settings;
  settings.enforce_cpu_limits = false;
  settings.pod_pids_limit = 1024;
  cgroups::Resources r = Config(R"({"containers": [
      {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "64Mi"}}}]})",
                                settings);
  EXPECT_EQ(r.cpu->quota, -1);
  EXPECT_EQ(r.pids_limit, 1024);
  settings.pod_pids_limit = -1;
  r = Config(R"({"containers": [{"name": "a"}]})", settings);
  EXPECT_FALSE(r.pids_limit.has_value());
}

TEST(PodResourceConfigTest, MilliCpuToSharesBounds) {
  EXPECT_EQ(MilliCpuToShares(0), 2u);
  EXPECT_EQ(MilliCpuToShares(1), 2u);
  EXPECT_EQ(MilliCpuToShares(1000), 1024u);
  EXPECT_EQ(MilliCpuToShares(300'000), 262144u);
}

TEST(PodCgroupPathsTest, MatchTheSandboxCgroupParent) {
  std::map<std::string, std::string> specs = {
      {"BestEffort", R"({"containers": [{"name": "a"}]})"},
      {"Burstable", R"({"containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]})"},
      {"Guaranteed",
       R"({"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Mi"}}}]})"}};
  for (std::string root : {"/", "/berth/", "berth-x"}) {
    PodOptions options;
    options.cgroup_root = root;
    for (const auto& [qos, spec] : specs) {
      bj::object pod = PodWithSpec(spec);
      ASSERT_EQ(QosClass(pod), qos);
      EXPECT_EQ(QosCgroupsPath(root, qos) + "/poduid-1", PodCgroupParent(pod, options))
          << root << " " << qos;
    }
  }
  EXPECT_EQ(KubepodsCgroupsPath("/"), "/kubepods");
  EXPECT_EQ(QosCgroupsPath("/", "Burstable"), "/kubepods/burstable");
  EXPECT_EQ(QosCgroupsPath("rel", "BestEffort"), "rel/kubepods/besteffort");
  EXPECT_EQ(QosCgroupsPath("/", "Guaranteed"), "/kubepods");
}

// A fake cgroup v2 tree: <tmp>/berth is the berth root; every cgroup the
// test expects has its knob files written beforehand.
class PodCgroupsFakeTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteCgroup("");  // the mount root: must stay untouched
    for (const char* dir :
         {"berth", "berth/kubepods", "berth/kubepods/besteffort", "berth/kubepods/burstable",
          "berth/kubepods/burstable/poduid-1", "berth/kubepods/burstable/poduid-2"}) {
      WriteCgroup(dir);
    }
    PodCgroupsOptions o;
    o.layout.mode = cgroups::Mode::kV2;
    o.layout.mount_root = tmp_.path();
    o.layout.unified_mount = tmp_.path();
    o.berth_root = "/berth";
    o.cgroup_root = "/";
    o.proc_self_cgroup = "0::/elsewhere\n";
    cgroups_ = std::make_unique<PodCgroups>(o);
  }

  void WriteCgroup(const std::string& rel) {
    std::string dir = rel.empty() ? tmp_.path() : tmp_ / rel;
    ASSERT_TRUE(MkdirAll(dir).ok()) << dir;
    std::map<std::string, std::string> files = {{"cgroup.controllers", "cpu memory pids\n"},
                                                {"cgroup.subtree_control", ""},
                                                {"cgroup.procs", ""},
                                                {"cpu.weight", "100\n"},
                                                {"cpu.max", "max 100000\n"},
                                                {"memory.max", "max\n"},
                                                {"pids.max", "max\n"}};
    for (const auto& [name, content] : files)
      ASSERT_TRUE(WriteFile(dir + "/" + name, content).ok());
  }

  std::string Knob(const std::string& rel, const std::string& file) {
    std::string dir = rel.empty() ? tmp_.path() : tmp_ / rel;
    return ReadFile(dir + "/" + file).value_or("<missing>");
  }

  berth::testing::TempDir tmp_;
  std::unique_ptr<PodCgroups> cgroups_;
};

bj::object BurstablePod(const std::string& uid, const std::string& cpu) {
  bj::object pod = PodWithSpec(R"({"containers": [
      {"name": "a", "resources": {"limits": {"cpu": ")" +
                               cpu + R"(", "memory": "32Mi"}}},
      {"name": "b", "resources": {"requests": {"cpu": "100m", "memory": "8Mi"},
                                  "limits": {"cpu": "100m", "memory": "16Mi"}}}]})");
  pod["metadata"].as_object()["uid"] = uid;
  return pod;
}

TEST_F(PodCgroupsFakeTreeTest, EnsurePodWritesTheQosTreeAndThePodLimits) {
  ASSERT_EQ(QosClass(BurstablePod("uid-1", "200m")), "Burstable");
  // uid-1: a's cpu request defaults to its limit; 300m in all.
  Status s = cgroups_->EnsurePod(BurstablePod("uid-1", "200m"));
  ASSERT_TRUE(s.ok()) << s.error().str();
  const std::string pod1 = "berth/kubepods/burstable/poduid-1";
  EXPECT_EQ(Knob(pod1, "memory.max"), std::to_string(48 * kMi));
  EXPECT_EQ(Knob(pod1, "cpu.max"), "30000 100000");
  EXPECT_EQ(Knob(pod1, "cpu.weight"), std::to_string(cgroups::CpuSharesToWeight(307)));
  EXPECT_EQ(Knob(pod1, "pids.max"), "max\n");                       // no podPidsLimit
  EXPECT_EQ(Knob("berth/kubepods/besteffort", "cpu.weight"), "1");  // 2 shares
  EXPECT_EQ(Knob("berth/kubepods/burstable", "cpu.weight"),
            std::to_string(cgroups::CpuSharesToWeight(307)));
  // Controllers are enabled from the berth root down, never above it.
  EXPECT_NE(Knob("berth", "cgroup.subtree_control").find("memory"), std::string::npos);
  EXPECT_EQ(Knob("", "cgroup.subtree_control"), "");

  // A second burstable pod adds its request to burstable's shares.
  s = cgroups_->EnsurePod(BurstablePod("uid-2", "900m"));
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_EQ(Knob("berth/kubepods/burstable", "cpu.weight"),
            std::to_string(cgroups::CpuSharesToWeight(MilliCpuToShares(1300))));

  // Once made, a pod's cgroup is not rewritten on later syncs.
  ASSERT_TRUE(WriteFile(tmp_ / pod1 + "/memory.max", "marker").ok());
  s = cgroups_->EnsurePod(BurstablePod("uid-1", "200m"));
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_EQ(Knob(pod1, "memory.max"), "marker");

  // Removal: the kernel drops a cgroup's files with it; the fake tree's are
  // removed by hand so rmdir can work. Burstable's shares drop back.
  const std::string pod2 = tmp_ / "berth/kubepods/burstable/poduid-2";
  for (const std::string& f : ListDir(pod2).value_or(std::vector<std::string>{}))
    ASSERT_EQ(::unlink((pod2 + "/" + f).c_str()), 0) << f;
  s = cgroups_->RemovePod("uid-2");
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_FALSE(PathExists(pod2));
  EXPECT_EQ(Knob("berth/kubepods/burstable", "cpu.weight"),
            std::to_string(cgroups::CpuSharesToWeight(307)));
  // A pod without a cgroup (never made, or gone) is fine.
  s = cgroups_->RemovePod("uid-none");
  EXPECT_TRUE(s.ok()) << s.error().str();
}

TEST_F(PodCgroupsFakeTreeTest, ResolvesBelowTheBerthRoot) {
  Result<cgroups::Placement> p = cgroups_->Resolve("/kubepods/burstable/poduid-1");
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->paths.at(cgroups::kUnified), tmp_ / "berth/kubepods/burstable/poduid-1");
  EXPECT_EQ(p->roots.at(cgroups::kUnified), tmp_ / "berth");
}

}  // namespace
}  // namespace berth::agent
