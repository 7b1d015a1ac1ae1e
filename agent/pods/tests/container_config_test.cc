// Container spec -> ContainerConfig (upstream generateContainerConfig,
// generateLinuxContainerConfig, determineEffectiveSecurityContext) and
// oom_score_adj (upstream pkg/kubelet/qos/policy.go).

#include "agent/pods/container_config.h"

#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>

#include <set>

#include "agent/pods/pod_spec.h"
#include "agent/pods/sandbox_config.h"
#include "agent/pods/tests/pod_json.h"
#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using testing::PodWithSpec;

constexpr int64_t kGi = int64_t{1} << 30;

std::vector<std::string> Vec(const google::protobuf::RepeatedPtrField<std::string>& r) {
  return {r.begin(), r.end()};
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? buf : path;
}

class ContainerConfigTest : public ::testing::Test {
 protected:
  // The pod's first container, built with the inputs in in_.
  Result<v1::ContainerConfig> Build(const bj::object& pod, size_t index = 0) {
    pod_ = pod;
    in_.pod = &pod_;
    in_.container = &pod_.at("spec").at("containers").at(index).as_object();
    return BuildContainerConfig(in_);
  }
  v1::ContainerConfig MustBuild(const bj::object& pod, size_t index = 0) {
    Result<v1::ContainerConfig> c = Build(pod, index);
    EXPECT_TRUE(c.ok()) << c.error().str();
    return c.ok() ? *c : v1::ContainerConfig();
  }
  // A pod with one container "app" whose spec is `container` (JSON members).
  static bj::object PodWith(const std::string& container, const std::string& pod_fields = "") {
    return PodWithSpec("{" + pod_fields + (pod_fields.empty() ? "" : ",") +
                       R"("containers": [{"name": "app", "image": "nginx:1.25")" +
                       (container.empty() ? "" : ",") + container + "}]}");
  }
  v1::LinuxContainerSecurityContext Security(const std::string& container,
                                             const std::string& pod_fields = "") {
    return MustBuild(PodWith(container, pod_fields)).linux().security_context();
  }
  v1::LinuxContainerResources Resources(const std::string& container) {
    return MustBuild(PodWith(container)).linux().resources();
  }

  berth::testing::TempDir dir_;
  bj::object pod_;
  ContainerInputs in_;
};

TEST_F(ContainerConfigTest, MetadataImageLogPathAndFlags) {
  in_.attempt = 3;
  in_.image_ref = "sha256:abc";
  v1::ContainerConfig c =
      MustBuild(PodWith(R"("workingDir": "/srv", "tty": true, "stdin": true, "stdinOnce": true)"));
  EXPECT_EQ(c.metadata().name(), "app");
  EXPECT_EQ(c.metadata().attempt(), 3u);
  EXPECT_EQ(c.image().image(), "sha256:abc");
  EXPECT_EQ(c.image().user_specified_image(), "nginx:1.25");
  EXPECT_EQ(c.log_path(), "app/3.log");
  EXPECT_EQ(c.working_dir(), "/srv");
  EXPECT_TRUE(c.tty());
  EXPECT_TRUE(c.stdin());
  EXPECT_TRUE(c.stdin_once());
  in_.attempt = 0;
  v1::ContainerConfig first = MustBuild(PodWith(""));
  EXPECT_EQ(first.log_path(), "app/0.log");
  EXPECT_FALSE(first.tty());
}

TEST_F(ContainerConfigTest, CommandAndArgsExpandFromEnvironment) {
  in_.env = {{"GREETING", "hello"}, {"TARGET", "world"}, {"GREETING", "hi"}};
  v1::ContainerConfig c = MustBuild(PodWith(R"js("command": ["sh", "-c", "echo $(GREETING)"],
      "args": ["$(TARGET)", "$$(TARGET)", "$(MISSING)", "$(TARGET"])js"));
  EXPECT_EQ(Vec(c.command()), (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(Vec(c.args()),
            (std::vector<std::string>{"world", "$(TARGET)", "$(MISSING)", "$(TARGET"}));
}

TEST_F(ContainerConfigTest, EnvironmentPassesThroughInOrder) {
  in_.env = {{"B", "2"}, {"A", "1"}, {"EMPTY", ""}};
  v1::ContainerConfig c = MustBuild(PodWith(""));
  ASSERT_EQ(c.envs_size(), 3);
  EXPECT_EQ(c.envs(0).key(), "B");
  EXPECT_EQ(c.envs(0).value(), "2");
  EXPECT_EQ(c.envs(1).key(), "A");
  EXPECT_EQ(c.envs(2).key(), "EMPTY");
  EXPECT_EQ(c.envs(2).value(), "");
}

TEST_F(ContainerConfigTest, VolumeMounts) {
  ASSERT_TRUE(MkdirAll(dir_ / "data").ok());
  ASSERT_TRUE(MkdirAll(dir_ / "config").ok());
  std::string data = RealPath(dir_ / "data");
  in_.volumes["data"] = {data, false};
  in_.volumes["config"] = {dir_ / "config", true};
  in_.env = {{"POD_NAME", "web-0"}};
  v1::ContainerConfig c = MustBuild(PodWith(R"js("volumeMounts": [
      {"name": "data", "mountPath": "/data"},
      {"name": "data", "mountPath": "/ro", "readOnly": true},
      {"name": "config", "mountPath": "/etc/app", "readOnly": false},
      {"name": "data", "mountPath": "/sub", "subPath": "nested/dir"},
      {"name": "data", "mountPath": "/mine", "subPathExpr": "logs/$(POD_NAME)"},
      {"name": "data", "mountPath": "/h2c", "mountPropagation": "HostToContainer"},
      {"name": "data", "mountPath": "/bi", "mountPropagation": "Bidirectional"},
      {"name": "data", "mountPath": "/none", "mountPropagation": "None"}])js"));
  ASSERT_EQ(c.mounts_size(), 8);
  auto mount = [&](int i) { return c.mounts(i); };
  EXPECT_EQ(mount(0).container_path(), "/data");
  EXPECT_EQ(mount(0).host_path(), data);
  EXPECT_FALSE(mount(0).readonly());
  EXPECT_EQ(mount(0).propagation(), v1::PROPAGATION_PRIVATE);
  EXPECT_TRUE(mount(1).readonly());
  // A read-only volume is mounted read-only whatever the mount says.
  EXPECT_TRUE(mount(2).readonly());
  EXPECT_EQ(mount(3).host_path(), data + "/nested/dir");
  EXPECT_TRUE(PathExists(data + "/nested/dir"));
  EXPECT_EQ(mount(4).host_path(), data + "/logs/web-0");
  EXPECT_EQ(mount(5).propagation(), v1::PROPAGATION_HOST_TO_CONTAINER);
  EXPECT_EQ(mount(6).propagation(), v1::PROPAGATION_BIDIRECTIONAL);
  EXPECT_EQ(mount(7).propagation(), v1::PROPAGATION_PRIVATE);
}

TEST_F(ContainerConfigTest, MountErrors) {
  ASSERT_TRUE(MkdirAll(dir_ / "data").ok());
  in_.volumes["data"] = {dir_ / "data", false};
  Result<v1::ContainerConfig> missing =
      Build(PodWith(R"("volumeMounts": [{"name": "other", "mountPath": "/x"}])"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_NE(missing.error().message().find("other"), std::string::npos);
  Result<v1::ContainerConfig> escape = Build(
      PodWith(R"("volumeMounts": [{"name": "data", "mountPath": "/x", "subPath": "../up"}])"));
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().code(), Errc::kInvalidArgument);
  Result<v1::ContainerConfig> unset = Build(PodWith(
      R"js("volumeMounts": [{"name": "data", "mountPath": "/x", "subPathExpr": "$(NOPE)"}])js"));
  ASSERT_FALSE(unset.ok());
  EXPECT_NE(unset.error().message().find("NOPE"), std::string::npos);
}

TEST_F(ContainerConfigTest, TerminationMessageMount) {
  in_.termination_message_host_path = dir_ / "msg";
  v1::ContainerConfig c = MustBuild(PodWith(""));
  ASSERT_EQ(c.mounts_size(), 1);
  EXPECT_EQ(c.mounts(0).container_path(), "/dev/termination-log");
  EXPECT_EQ(c.mounts(0).host_path(), dir_ / "msg");
  EXPECT_FALSE(c.mounts(0).readonly());
  v1::ContainerConfig custom = MustBuild(PodWith(R"("terminationMessagePath": "/tmp/why")"));
  ASSERT_EQ(custom.mounts_size(), 1);
  EXPECT_EQ(custom.mounts(0).container_path(), "/tmp/why");
  in_.termination_message_host_path = "";
  EXPECT_EQ(MustBuild(PodWith("")).mounts_size(), 0);
}

TEST_F(ContainerConfigTest, LabelsAndAnnotations) {
  in_.attempt = 4;
  bj::object pod = PodWith(R"("terminationMessagePolicy": "FallbackToLogsOnError")",
                           R"("terminationGracePeriodSeconds": 60)");
  pod["metadata"].as_object()["labels"] = bj::object{{"app", "web"}};
  v1::ContainerConfig c = MustBuild(pod);
  std::map<std::string, std::string> labels(c.labels().begin(), c.labels().end());
  // Container labels are kubelet's own, not the pod's.
  EXPECT_EQ(labels, (std::map<std::string, std::string>{{kPodNameLabel, "web"},
                                                        {kPodNamespaceLabel, "shop"},
                                                        {kPodUidLabel, "uid-1"},
                                                        {kContainerNameLabel, "app"}}));
  EXPECT_EQ(c.annotations().at(kRestartCountAnnotation), "4");
  EXPECT_EQ(c.annotations().at(kTerminationMessagePathAnnotation), "/dev/termination-log");
  EXPECT_EQ(c.annotations().at(kTerminationMessagePolicyAnnotation), "FallbackToLogsOnError");
  EXPECT_EQ(c.annotations().at(kPodTerminationGraceAnnotation), "60");
  v1::ContainerConfig defaults = MustBuild(PodWith(R"("terminationMessagePath": "/m")"));
  EXPECT_EQ(defaults.annotations().at(kTerminationMessagePathAnnotation), "/m");
  EXPECT_EQ(defaults.annotations().at(kTerminationMessagePolicyAnnotation), "File");
}

TEST_F(ContainerConfigTest, CpuShares) {
  EXPECT_EQ(Resources("").cpu_shares(), 2);
  EXPECT_EQ(Resources(R"("resources": {"requests": {"cpu": "250m"}})").cpu_shares(), 256);
  EXPECT_EQ(Resources(R"("resources": {"requests": {"cpu": "1m"}})").cpu_shares(), 2);
  EXPECT_EQ(Resources(R"("resources": {"requests": {"cpu": "2"}})").cpu_shares(), 2048);
  // The request defaults to the limit.
  EXPECT_EQ(Resources(R"("resources": {"limits": {"cpu": "1500m"}})").cpu_shares(), 1536);
}

TEST_F(ContainerConfigTest, CpuSharesCappedAtMaxShares) {
  // Upstream MilliCPUToShares caps at 262144 (the kernel's maximum).
  EXPECT_EQ(Resources(R"("resources": {"requests": {"cpu": "300"}})").cpu_shares(), 262144);
}

TEST_F(ContainerConfigTest, CpuQuotaAndMemoryLimit) {
  v1::LinuxContainerResources r =
      Resources(R"("resources": {"limits": {"cpu": "500m", "memory": "128Mi"}})");
  EXPECT_EQ(r.cpu_period(), 100000);
  EXPECT_EQ(r.cpu_quota(), 50000);
  EXPECT_EQ(r.memory_limit_in_bytes(), 128 * 1024 * 1024);
  EXPECT_EQ(Resources(R"("resources": {"limits": {"cpu": "5m"}})").cpu_quota(), 1000);
  EXPECT_EQ(Resources(R"("resources": {"limits": {"cpu": "3"}})").cpu_quota(), 300000);
  v1::LinuxContainerResources none = Resources("");
  EXPECT_EQ(none.cpu_quota(), 0);
  EXPECT_EQ(none.memory_limit_in_bytes(), 0);
}

TEST(OomScoreAdjustTest, ByQosClass) {
  bj::object guaranteed = PodWithSpec(R"({"containers": [{"name": "a", "resources":
      {"limits": {"cpu": "1", "memory": "1Gi"}}}]})");
  EXPECT_EQ(OomScoreAdjust(guaranteed, Containers(guaranteed)[0].as_object(), 4 * kGi), -997);
  bj::object best_effort = PodWithSpec(R"({"containers": [{"name": "a"}]})");
  EXPECT_EQ(OomScoreAdjust(best_effort, Containers(best_effort)[0].as_object(), 4 * kGi), 1000);
  bj::object burstable = PodWithSpec(R"({"containers": [
      {"name": "quarter", "resources": {"requests": {"memory": "1Gi"}}},
      {"name": "cpu-only", "resources": {"requests": {"cpu": "100m"}}},
      {"name": "all", "resources": {"requests": {"memory": "4Gi"}, "limits": {"memory": "8Gi"}}},
      {"name": "small", "resources": {"requests": {"memory": "100Mi"}}}]})");
  const bj::array& cs = Containers(burstable);
  EXPECT_EQ(OomScoreAdjust(burstable, cs[0].as_object(), 4 * kGi), 750);
  // No memory request: 1000 would equal BestEffort, so 999.
  EXPECT_EQ(OomScoreAdjust(burstable, cs[1].as_object(), 4 * kGi), 999);
  // Requesting all of memory: kept above Guaranteed's -997 + 1000.
  EXPECT_EQ(OomScoreAdjust(burstable, cs[2].as_object(), 4 * kGi), 3);
  EXPECT_EQ(OomScoreAdjust(burstable, cs[3].as_object(), 4 * kGi), 976);  // 1000 - 24
}

TEST(OomScoreAdjustTest, SidecarNoHigherThanSmallestRegularContainer) {
  // Upstream: a sidecar's adjustment is at most that of the regular
  // container with the smallest memory request.
  bj::object pod = PodWithSpec(R"({
      "initContainers": [{"name": "proxy", "restartPolicy": "Always",
                          "resources": {"requests": {"memory": "256Mi"}}}],
      "containers": [{"name": "a", "resources": {"requests": {"memory": "1Gi"}}},
                     {"name": "b", "resources": {"requests": {"memory": "2Gi"}}}]})");
  EXPECT_EQ(OomScoreAdjust(pod, InitContainers(pod)[0].as_object(), 4 * kGi), 750);
}

TEST(OomScoreAdjustTest, NodeCriticalPodIsProtectedLikeGuaranteed) {
  // Upstream: types.IsNodeCriticalPod -> guaranteedOOMScoreAdj.
  bj::object pod = PodWithSpec(R"({"priorityClassName": "system-node-critical",
      "priority": 2000001000, "containers": [{"name": "a", "resources":
      {"requests": {"memory": "64Mi"}}}]})");
  EXPECT_EQ(OomScoreAdjust(pod, Containers(pod)[0].as_object(), 4 * kGi), -997);
}

TEST_F(ContainerConfigTest, OomScoreAdjustUsesNodeMemory) {
  in_.memory_capacity = 4 * kGi;
  EXPECT_EQ(Resources(R"("resources": {"requests": {"memory": "2Gi"}})").oom_score_adj(), 500);
}

TEST_F(ContainerConfigTest, SecurityContextUsersAndGroups) {
  v1::LinuxContainerSecurityContext sc =
      Security(R"("securityContext": {"runAsUser": 2000})",
               R"("securityContext": {"runAsUser": 1000, "runAsGroup": 3000,
                                      "supplementalGroups": [5000], "fsGroup": 4000})");
  ASSERT_TRUE(sc.has_run_as_user());
  EXPECT_EQ(sc.run_as_user().value(), 2000);  // the container's wins
  ASSERT_TRUE(sc.has_run_as_group());
  EXPECT_EQ(sc.run_as_group().value(), 3000);  // the pod's when the container has none
  std::multiset<int64_t> groups(sc.supplemental_groups().begin(), sc.supplemental_groups().end());
  EXPECT_EQ(groups, (std::multiset<int64_t>{4000, 5000}));
  v1::LinuxContainerSecurityContext none = Security("");
  EXPECT_FALSE(none.has_run_as_user());
  EXPECT_FALSE(none.has_run_as_group());
}

TEST_F(ContainerConfigTest, SecurityContextFlagsAndCapabilities) {
  v1::LinuxContainerSecurityContext sc = Security(R"("securityContext": {
      "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
      "capabilities": {"add": ["NET_ADMIN", "SYS_TIME"], "drop": ["ALL"]}})");
  EXPECT_TRUE(sc.readonly_rootfs());
  EXPECT_TRUE(sc.no_new_privs());
  EXPECT_FALSE(sc.privileged());
  EXPECT_EQ(Vec(sc.capabilities().add_capabilities()),
            (std::vector<std::string>{"NET_ADMIN", "SYS_TIME"}));
  EXPECT_EQ(Vec(sc.capabilities().drop_capabilities()), (std::vector<std::string>{"ALL"}));
  EXPECT_FALSE(Security(R"("securityContext": {"allowPrivilegeEscalation": true})").no_new_privs());
  v1::LinuxContainerSecurityContext plain = Security("");
  EXPECT_FALSE(plain.no_new_privs());
  EXPECT_FALSE(plain.readonly_rootfs());
  EXPECT_EQ(plain.capabilities().add_capabilities_size(), 0);
  EXPECT_TRUE(Security(R"("securityContext": {"privileged": true})").privileged());
}

TEST_F(ContainerConfigTest, SeccompProfiles) {
  EXPECT_EQ(Security("").seccomp().profile_type(), v1::SecurityProfile::Unconfined);
  EXPECT_EQ(Security("", R"("securityContext": {"seccompProfile": {"type": "RuntimeDefault"}})")
                .seccomp()
                .profile_type(),
            v1::SecurityProfile::RuntimeDefault);
  // The container's profile wins over the pod's.
  EXPECT_EQ(Security(R"("securityContext": {"seccompProfile": {"type": "Unconfined"}})",
                     R"("securityContext": {"seccompProfile": {"type": "RuntimeDefault"}})")
                .seccomp()
                .profile_type(),
            v1::SecurityProfile::Unconfined);
}

TEST_F(ContainerConfigTest, LocalhostSeccompProfileIsUnderKubeletSeccompDir) {
  // Upstream: LocalhostRef = <root-dir>/seccomp/<localhostProfile>, an
  // absolute path the runtime opens as is.
  v1::SecurityProfile sp = Security(R"("securityContext": {"seccompProfile":
      {"type": "Localhost", "localhostProfile": "profiles/audit.json"}})")
                               .seccomp();
  EXPECT_EQ(sp.profile_type(), v1::SecurityProfile::Localhost);
  EXPECT_TRUE(sp.localhost_ref().starts_with("/")) << sp.localhost_ref();
  EXPECT_TRUE(sp.localhost_ref().ends_with("/seccomp/profiles/audit.json")) << sp.localhost_ref();
}

TEST_F(ContainerConfigTest, MaskedAndReadonlyPaths) {
  v1::LinuxContainerSecurityContext sc = Security("");
  EXPECT_EQ(Vec(sc.masked_paths()),
            (std::vector<std::string>{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                                      "/proc/latency_stats", "/proc/timer_list",
                                      "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                                      "/sys/firmware", "/sys/devices/virtual/powercap"}));
  EXPECT_EQ(Vec(sc.readonly_paths()),
            (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"}));
  v1::LinuxContainerSecurityContext privileged =
      Security(R"("securityContext": {"privileged": true})");
  EXPECT_EQ(privileged.masked_paths_size(), 0);
  EXPECT_EQ(privileged.readonly_paths_size(), 0);
  v1::LinuxContainerSecurityContext unmasked =
      Security(R"("securityContext": {"procMount": "Unmasked"})");
  EXPECT_EQ(unmasked.masked_paths_size(), 0);
  EXPECT_EQ(unmasked.readonly_paths_size(), 0);
  EXPECT_EQ(Security(R"("securityContext": {"procMount": "Default"})").masked_paths_size(), 11);
}

TEST_F(ContainerConfigTest, NamespaceOptionsFollowThePod) {
  v1::NamespaceOption d = Security("").namespace_options();
  EXPECT_EQ(d.network(), v1::POD);
  EXPECT_EQ(d.pid(), v1::CONTAINER);
  EXPECT_EQ(d.ipc(), v1::POD);
  v1::NamespaceOption host =
      Security("", R"("hostNetwork": true, "hostPID": true, "hostIPC": true)").namespace_options();
  EXPECT_EQ(host.network(), v1::NODE);
  EXPECT_EQ(host.pid(), v1::NODE);
  EXPECT_EQ(host.ipc(), v1::NODE);
  EXPECT_EQ(Security("", R"("shareProcessNamespace": true)").namespace_options().pid(), v1::POD);
}

}  // namespace
}  // namespace berth::agent
