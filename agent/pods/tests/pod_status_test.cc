// ComputePodStatus against upstream generateAPIPodStatus / getPhase /
// pkg/kubelet/status/generate.go, with hand-built runtime state.

#include "agent/pods/pod_status.h"

#include <gtest/gtest.h>

#include "agent/pods/container_config.h"
#include "agent/pods/sandbox_config.h"
#include "agent/pods/tests/pod_json.h"
#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using testing::Obj;
using testing::PodWithSpec;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kT0 = 1'700'000'000 * kSecond;  // 2023-11-14T22:13:20Z

v1::PodSandboxStatus Sandbox(const std::string& id, uint32_t attempt, bool ready,
                             const std::string& ip = "10.1.0.5") {
  v1::PodSandboxStatus s;
  s.set_id(id);
  s.mutable_metadata()->set_name("web");
  s.mutable_metadata()->set_namespace_("shop");
  s.mutable_metadata()->set_uid("uid-1");
  s.mutable_metadata()->set_attempt(attempt);
  s.set_state(ready ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
  s.set_created_at(kT0 + attempt * kSecond);
  s.mutable_network()->set_ip(ip);
  (*s.mutable_labels())[kPodUidLabel] = "uid-1";
  return s;
}

v1::ContainerStatus Instance(const std::string& name, const std::string& id, uint32_t attempt,
                             v1::ContainerState state, int exit_code = 0) {
  v1::ContainerStatus c;
  c.set_id(id);
  c.mutable_metadata()->set_name(name);
  c.mutable_metadata()->set_attempt(attempt);
  c.set_state(state);
  // Instance n was created at T0 + 10n s, started 1 s and finished 5 s later.
  const int64_t created = kT0 + int64_t{attempt} * 10 * kSecond;
  c.set_created_at(created);
  if (state != v1::CONTAINER_CREATED) c.set_started_at(created + kSecond);
  if (state == v1::CONTAINER_EXITED) {
    c.set_finished_at(created + 5 * kSecond);
    c.set_exit_code(exit_code);
  }
  c.set_image_ref("sha256:img-" + name);
  (*c.mutable_labels())[kPodUidLabel] = "uid-1";
  (*c.mutable_labels())[kContainerNameLabel] = name;
  (*c.mutable_labels())["io.kubernetes.sandbox.id"] = "sb-1";
  return c;
}

v1::ContainerStatus Running(const std::string& name, const std::string& id, uint32_t attempt = 0) {
  return Instance(name, id, attempt, v1::CONTAINER_RUNNING);
}
v1::ContainerStatus Exited(const std::string& name, const std::string& id, int exit_code,
                           uint32_t attempt = 0) {
  return Instance(name, id, attempt, v1::CONTAINER_EXITED, exit_code);
}

// The condition of `type` in a status, or an empty object.
bj::object Condition(const bj::object& status, const std::string& type) {
  for (const bj::value& c : status.at("conditions").as_array()) {
    if (c.at("type").as_string() == type) return c.as_object();
  }
  return {};
}
std::string Field(const bj::object& o, const char* key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : "";
}

class PodStatusTest : public ::testing::Test {
 protected:
  PodStatusTest() { rt_.sandboxes.push_back(Sandbox("sb-1", 0, true)); }

  bj::object Compute(const bj::object& pod) {
    pod_ = pod;
    in_.pod = &pod_;
    in_.runtime = &rt_;
    return ComputePodStatus(in_);
  }
  std::string PhaseOf(const bj::object& pod) { return Field(Compute(pod), "phase"); }
  static const bj::object& ContainerStatus(const bj::object& status, size_t i,
                                           const char* list = "containerStatuses") {
    return status.at(list).at(i).as_object();
  }
  static std::string WaitingReason(const bj::object& cs) {
    const bj::value* w = cs.at("state").as_object().if_contains("waiting");
    return w != nullptr ? Field(w->as_object(), "reason") : "";
  }

  berth::testing::TempDir dir_;
  bj::object pod_;
  RuntimePod rt_;
  StatusInputs in_;
};

struct PhaseCase {
  const char* policy;
  int exit_code;
  const char* phase;
};

TEST_F(PodStatusTest, PhaseOfAnExitedContainerByRestartPolicy) {
  for (const PhaseCase& c :
       {PhaseCase{"Always", 0, "Running"}, PhaseCase{"Always", 1, "Running"},
        PhaseCase{"OnFailure", 0, "Succeeded"}, PhaseCase{"OnFailure", 1, "Running"},
        PhaseCase{"Never", 0, "Succeeded"}, PhaseCase{"Never", 1, "Failed"}}) {
    rt_.containers = {Exited("app", "c1", c.exit_code)};
    bj::object status = Compute(PodWithSpec(std::string(R"({"restartPolicy": ")") + c.policy +
                                            R"(", "containers": [{"name": "app"}]})"));
    EXPECT_EQ(Field(status, "phase"), c.phase) << c.policy << " exit " << c.exit_code;
    const bj::object& t = ContainerStatus(status, 0).at("state").at("terminated").as_object();
    EXPECT_EQ(t.at("exitCode").as_int64(), c.exit_code);
    EXPECT_EQ(Field(t, "reason"), c.exit_code == 0 ? "Completed" : "Error");
  }
}

TEST_F(PodStatusTest, RunningContainer) {
  rt_.containers = {Running("app", "c1")};
  bj::object status =
      Compute(PodWithSpec(R"({"containers": [{"name": "app", "image": "nginx"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Running");
  const bj::object& cs = ContainerStatus(status, 0);
  EXPECT_EQ(Field(cs, "name"), "app");
  EXPECT_EQ(Field(cs, "image"), "nginx");
  EXPECT_EQ(Field(cs, "imageID"), "sha256:img-app");
  EXPECT_EQ(Field(cs, "containerID"), "berth://c1");
  EXPECT_EQ(cs.at("restartCount").as_int64(), 0);
  EXPECT_TRUE(cs.at("ready").as_bool());
  EXPECT_TRUE(cs.at("started").as_bool());
  EXPECT_EQ(Field(cs.at("state").at("running").as_object(), "startedAt"), "2023-11-14T22:13:21Z");
  EXPECT_EQ(cs.at("lastState").as_object().size(), 0u);
  for (const char* type : {"PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"})
    EXPECT_EQ(Field(Condition(status, type), "status"), "True") << type;
  EXPECT_EQ(Field(status, "qosClass"), "BestEffort");
  in_.runtime_name = "containerd";
  EXPECT_EQ(Field(ContainerStatus(Compute(pod_), 0), "containerID"), "containerd://c1");
}

TEST_F(PodStatusTest, CrashLoopBackOffKeepsTheExitAsLastState) {
  rt_.containers = {Exited("app", "c2", 1, 1), Exited("app", "c1", 1, 0)};
  in_.waiting["app"] = {"CrashLoopBackOff",
                        "back-off 10s restarting failed container=app pod=web_shop(uid-1)"};
  bj::object status = Compute(PodWithSpec(R"({"containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Running");
  const bj::object& cs = ContainerStatus(status, 0);
  EXPECT_EQ(WaitingReason(cs), "CrashLoopBackOff");
  EXPECT_EQ(Field(cs.at("state").at("waiting").as_object(), "message"),
            "back-off 10s restarting failed container=app pod=web_shop(uid-1)");
  const bj::object& last = cs.at("lastState").at("terminated").as_object();
  EXPECT_EQ(last.at("exitCode").as_int64(), 1);
  EXPECT_EQ(Field(last, "containerID"), "berth://c2");
  EXPECT_EQ(Field(last, "finishedAt"), "2023-11-14T22:13:35Z");
  EXPECT_EQ(cs.at("restartCount").as_int64(), 1);
  EXPECT_FALSE(cs.at("ready").as_bool());
  EXPECT_FALSE(cs.at("started").as_bool());
  bj::object ready = Condition(status, "Ready");
  EXPECT_EQ(Field(ready, "status"), "False");
  EXPECT_EQ(Field(ready, "reason"), "ContainersNotReady");
  EXPECT_EQ(Field(ready, "message"), "containers with unready status: [app]");
  // Never: the same failed container makes the pod Failed.
  in_.waiting.clear();
  rt_.containers = {Exited("app", "c1", 1, 0)};
  EXPECT_EQ(PhaseOf(PodWithSpec(R"({"restartPolicy": "Never",
                                    "containers": [{"name": "app"}]})")),
            "Failed");
}

TEST_F(PodStatusTest, RunningInstanceShowsThePreviousExitAsLastState) {
  rt_.containers = {Running("app", "c3", 2), Exited("app", "c2", 137, 1), Exited("app", "c1", 1)};
  bj::object status = Compute(PodWithSpec(R"({"containers": [{"name": "app"}]})"));
  const bj::object& cs = ContainerStatus(status, 0);
  EXPECT_EQ(cs.at("restartCount").as_int64(), 2);
  EXPECT_EQ(Field(cs, "containerID"), "berth://c3");
  EXPECT_EQ(cs.at("lastState").at("terminated").at("exitCode").as_int64(), 137);
  EXPECT_EQ(Field(cs.at("lastState").at("terminated").as_object(), "containerID"), "berth://c2");
}

TEST_F(PodStatusTest, ContainersNotCreatedYetArePending) {
  bj::object status = Compute(PodWithSpec(R"({"containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Pending");
  EXPECT_EQ(WaitingReason(ContainerStatus(status, 0)), "ContainerCreating");
  EXPECT_EQ(ContainerStatus(status, 0).at("restartCount").as_int64(), 0);
  in_.waiting["app"] = {"ErrImagePull", "rpc error: not found"};
  status = Compute(pod_);
  EXPECT_EQ(Field(status, "phase"), "Pending");
  EXPECT_EQ(WaitingReason(ContainerStatus(status, 0)), "ErrImagePull");
  // A created, not started, container is waiting too.
  in_.waiting.clear();
  rt_.containers = {Instance("app", "c1", 0, v1::CONTAINER_CREATED)};
  EXPECT_EQ(PhaseOf(pod_), "Pending");
}

TEST_F(PodStatusTest, UnreadyContainersAreListedInOrder) {
  rt_.containers = {Running("a", "c1"), Running("b", "c2"), Running("c", "c3")};
  in_.ready = [](const std::string& name) -> std::optional<bool> {
    if (name == "c") return std::nullopt;  // no readiness probe
    return false;
  };
  bj::object status = Compute(PodWithSpec(R"({"containers": [{"name": "a"}, {"name": "b"},
                                                             {"name": "c"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Running");
  for (const char* type : {"ContainersReady", "Ready"}) {
    bj::object c = Condition(status, type);
    EXPECT_EQ(Field(c, "status"), "False") << type;
    EXPECT_EQ(Field(c, "reason"), "ContainersNotReady") << type;
    EXPECT_EQ(Field(c, "message"), "containers with unready status: [a b]") << type;
  }
  EXPECT_TRUE(ContainerStatus(status, 2).at("ready").as_bool());
}

TEST_F(PodStatusTest, StartupProbeNotPassedMeansNotStartedNorReady) {
  rt_.containers = {Running("app", "c1")};
  in_.started = [](const std::string&) -> std::optional<bool> { return false; };
  bj::object status = Compute(PodWithSpec(R"({"containers": [{"name": "app"}]})"));
  EXPECT_FALSE(ContainerStatus(status, 0).at("started").as_bool());
  EXPECT_FALSE(ContainerStatus(status, 0).at("ready").as_bool());
  EXPECT_EQ(Field(status, "phase"), "Running");
}

TEST_F(PodStatusTest, InitContainerRunningKeepsThePodPending) {
  rt_.containers = {Running("setup", "i1")};
  bj::object status = Compute(PodWithSpec(R"({"initContainers": [{"name": "setup"}],
                                              "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Pending");
  bj::object init = Condition(status, "Initialized");
  EXPECT_EQ(Field(init, "status"), "False");
  EXPECT_EQ(Field(init, "reason"), "ContainersNotInitialized");
  EXPECT_EQ(Field(init, "message"), "containers with incomplete status: [setup]");
  const bj::object& setup = ContainerStatus(status, 0, "initContainerStatuses");
  EXPECT_TRUE(setup.at("state").as_object().contains("running"));
  EXPECT_FALSE(setup.at("ready").as_bool());
}

TEST_F(PodStatusTest, ContainersWaitForInitWithReasonPodInitializing) {
  // Upstream convertToAPIContainerStatuses: with init containers in the
  // spec every container's default waiting reason is PodInitializing.
  rt_.containers = {Running("setup", "i1")};
  bj::object status = Compute(PodWithSpec(R"({"initContainers": [{"name": "setup"}],
                                              "containers": [{"name": "app"}]})"));
  EXPECT_EQ(WaitingReason(ContainerStatus(status, 0)), "PodInitializing");
}

TEST_F(PodStatusTest, InitContainersDoneThenRunning) {
  rt_.containers = {Exited("setup", "i1", 0), Running("app", "c1")};
  bj::object status = Compute(PodWithSpec(R"({"initContainers": [{"name": "setup"}],
                                              "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Running");
  EXPECT_EQ(Field(Condition(status, "Initialized"), "status"), "True");
  const bj::object& setup = ContainerStatus(status, 0, "initContainerStatuses");
  EXPECT_TRUE(setup.at("ready").as_bool());
  EXPECT_EQ(Field(setup.at("state").at("terminated").as_object(), "reason"), "Completed");
  EXPECT_EQ(Field(Condition(status, "Ready"), "status"), "True");
}

TEST_F(PodStatusTest, FailedInitContainerFailsANeverPod) {
  rt_.containers = {Exited("setup", "i1", 2)};
  bj::object status = Compute(PodWithSpec(R"({"restartPolicy": "Never",
      "initContainers": [{"name": "setup"}], "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Failed");
  EXPECT_FALSE(ContainerStatus(status, 0, "initContainerStatuses").at("ready").as_bool());
  EXPECT_EQ(Field(Condition(status, "Ready"), "status"), "False");
  EXPECT_EQ(Field(Condition(status, "ContainersReady"), "status"), "False");
}

TEST_F(PodStatusTest, FailedInitContainerIsRetriedOtherwise) {
  for (const char* policy : {"OnFailure", "Always"}) {
    rt_.containers = {Exited("setup", "i1", 2)};
    in_.waiting["setup"] = {"CrashLoopBackOff", "back-off"};
    bj::object status = Compute(PodWithSpec(std::string(R"({"restartPolicy": ")") + policy +
                                            R"(", "initContainers": [{"name": "setup"}],
                                               "containers": [{"name": "app"}]})"));
    EXPECT_EQ(Field(status, "phase"), "Pending") << policy;
    const bj::object& setup = ContainerStatus(status, 0, "initContainerStatuses");
    EXPECT_EQ(WaitingReason(setup), "CrashLoopBackOff") << policy;
    EXPECT_EQ(setup.at("lastState").at("terminated").at("exitCode").as_int64(), 2) << policy;
  }
}

TEST_F(PodStatusTest, FailedPodConditionsSayPodFailed) {
  // Upstream generateContainersReadyConditionForTerminalPhase: reason
  // PodFailed for Failed, PodCompleted for Succeeded; Ready copies it.
  rt_.containers = {Exited("app", "c1", 1)};
  bj::object status = Compute(PodWithSpec(R"({"restartPolicy": "Never",
                                              "containers": [{"name": "app"}]})"));
  ASSERT_EQ(Field(status, "phase"), "Failed");
  EXPECT_EQ(Field(Condition(status, "ContainersReady"), "reason"), "PodFailed");
  EXPECT_EQ(Field(Condition(status, "Ready"), "reason"), "PodFailed");
  EXPECT_EQ(Field(Condition(status, "Ready"), "message"), "");
}

TEST_F(PodStatusTest, SucceededPodConditionsSayPodCompleted) {
  rt_.containers = {Exited("app", "c1", 0)};
  bj::object status = Compute(PodWithSpec(R"({"restartPolicy": "Never",
                                              "containers": [{"name": "app"}]})"));
  ASSERT_EQ(Field(status, "phase"), "Succeeded");
  EXPECT_EQ(Field(Condition(status, "ContainersReady"), "status"), "False");
  EXPECT_EQ(Field(Condition(status, "ContainersReady"), "reason"), "PodCompleted");
  EXPECT_EQ(Field(Condition(status, "Ready"), "reason"), "PodCompleted");
  EXPECT_EQ(Field(Condition(status, "Initialized"), "status"), "True");
}

TEST_F(PodStatusTest, SucceededPodIsInitializedWithReasonPodCompleted) {
  // Upstream GeneratePodInitializedCondition for phase Succeeded.
  rt_.containers = {Exited("app", "c1", 0)};
  bj::object status = Compute(PodWithSpec(R"({"restartPolicy": "Never",
                                              "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(Condition(status, "Initialized"), "reason"), "PodCompleted");
}

TEST_F(PodStatusTest, FailedInitializationLeavesPodUninitialized) {
  // Upstream: Failed (not Succeeded) and no regular container ever ran, so
  // Initialized stays False with the incomplete init container.
  rt_.containers = {Exited("setup", "i1", 2)};
  bj::object status = Compute(PodWithSpec(R"({"restartPolicy": "Never",
      "initContainers": [{"name": "setup"}], "containers": [{"name": "app"}]})"));
  ASSERT_EQ(Field(status, "phase"), "Failed");
  bj::object init = Condition(status, "Initialized");
  EXPECT_EQ(Field(init, "status"), "False");
  EXPECT_EQ(Field(init, "reason"), "ContainersNotInitialized");
  EXPECT_EQ(Field(init, "message"), "containers with incomplete status: [setup]");
}

TEST_F(PodStatusTest, SidecarRunsBesideTheContainers) {
  rt_.containers = {Running("proxy", "s1"), Running("app", "c1")};
  bj::object status = Compute(PodWithSpec(R"({
      "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
      "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Running");
  EXPECT_EQ(Field(Condition(status, "Initialized"), "status"), "True");
  const bj::object& proxy = ContainerStatus(status, 0, "initContainerStatuses");
  EXPECT_TRUE(proxy.at("started").as_bool());
  EXPECT_TRUE(proxy.at("ready").as_bool());
  EXPECT_EQ(Field(Condition(status, "Ready"), "status"), "True");
}

TEST_F(PodStatusTest, SidecarNotStartedKeepsThePodInitializing) {
  rt_.containers = {Running("proxy", "s1")};
  in_.started = [](const std::string& name) -> std::optional<bool> {
    if (name == "proxy") return false;
    return std::nullopt;
  };
  bj::object status = Compute(PodWithSpec(R"({
      "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
      "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Pending");
  bj::object init = Condition(status, "Initialized");
  EXPECT_EQ(Field(init, "status"), "False");
  EXPECT_EQ(Field(init, "message"), "containers with incomplete status: [proxy]");
}

TEST_F(PodStatusTest, UnreadySidecarMakesContainersUnready) {
  // Upstream GenerateContainersReadyCondition lists restartable init
  // containers first, then regular ones.
  rt_.containers = {Running("proxy", "s1"), Running("app", "c1")};
  in_.ready = [](const std::string& name) -> std::optional<bool> {
    if (name == "proxy") return false;
    return std::nullopt;
  };
  bj::object status = Compute(PodWithSpec(R"({
      "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
      "containers": [{"name": "app"}]})"));
  bj::object ready = Condition(status, "ContainersReady");
  EXPECT_EQ(Field(ready, "status"), "False");
  EXPECT_EQ(Field(ready, "message"), "containers with unready status: [proxy]");
}

TEST_F(PodStatusTest, RunningSidecarKeepsACompletedPodRunning) {
  // Upstream getPhase counts a running sidecar as running: the pod stays
  // Running until the sidecars are stopped too.
  rt_.containers = {Running("proxy", "s1"), Exited("app", "c1", 0)};
  bj::object pod = PodWithSpec(R"({"restartPolicy": "Never",
      "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
      "containers": [{"name": "app"}]})");
  EXPECT_EQ(PhaseOf(pod), "Running");
}

TEST_F(PodStatusTest, StoppedSidecarDoesNotHoldBackACompletedPod) {
  // Upstream getPhase ignores terminated sidecars (their exit code too).
  rt_.containers = {Exited("proxy", "s1", 143), Exited("app", "c1", 0)};
  EXPECT_EQ(PhaseOf(PodWithSpec(R"({"restartPolicy": "Never",
      "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
      "containers": [{"name": "app"}]})")),
            "Succeeded");
}

TEST_F(PodStatusTest, SidecarRestartingAfterStartDoesNotMakeThePodPending) {
  // Upstream: a sidecar waiting with a previous termination is not pending
  // initialization, and once a regular container has run the pod stays
  // Initialized.
  rt_.containers = {Exited("proxy", "s2", 1, 1), Running("app", "c1")};
  in_.waiting["proxy"] = {"CrashLoopBackOff", "back-off 10s"};
  bj::object status = Compute(PodWithSpec(R"({
      "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
      "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Running");
  EXPECT_EQ(Field(Condition(status, "Initialized"), "status"), "True");
}

TEST_F(PodStatusTest, TerminatedPodIsSucceededOnlyIfAllExitedZero) {
  bj::object pod = PodWithSpec(R"({"containers": [{"name": "a"}, {"name": "b"}]})");
  in_.terminated = true;
  rt_.containers = {Exited("a", "c1", 0), Exited("b", "c2", 0)};
  EXPECT_EQ(PhaseOf(pod), "Succeeded");  // even with restartPolicy Always
  rt_.containers = {Exited("a", "c1", 0), Exited("b", "c2", 137)};
  EXPECT_EQ(PhaseOf(pod), "Failed");
  rt_.containers = {Exited("a", "c1", 0)};  // b never ran
  EXPECT_EQ(PhaseOf(pod), "Failed");
}

TEST_F(PodStatusTest, TerminalPhaseNeverGoesBack) {
  rt_.containers = {Running("app", "c1")};
  bj::object pod = PodWithSpec(R"({"containers": [{"name": "app"}]})");
  pod["status"] = Obj(R"({"phase": "Succeeded"})");
  EXPECT_EQ(PhaseOf(pod), "Succeeded");
}

TEST_F(PodStatusTest, RejectedPodFailsWithReason) {
  rt_.sandboxes.clear();
  in_.reason = "OutOfcpu";
  in_.message = "Pod was rejected: Node didn't have enough resource: cpu";
  bj::object status = Compute(PodWithSpec(R"({"containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "phase"), "Failed");
  EXPECT_EQ(Field(status, "reason"), "OutOfcpu");
  EXPECT_EQ(Field(status, "message"), "Pod was rejected: Node didn't have enough resource: cpu");
  EXPECT_EQ(Field(Condition(status, "PodReadyToStartContainers"), "status"), "False");
}

TEST_F(PodStatusTest, TransitionTimesKeptWhileTheStatusHolds) {
  rt_.containers = {Running("app", "c1")};
  bj::object pod = PodWithSpec(R"({"containers": [{"name": "app"}]})");
  pod["status"] = Obj(R"({"phase": "Running", "startTime": "2020-01-01T00:00:00Z",
      "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:10Z"},
        {"type": "ContainersReady", "status": "False",
         "lastTransitionTime": "2020-01-01T00:00:05Z"}]})");
  bj::object status = Compute(pod);
  EXPECT_EQ(Field(Condition(status, "Ready"), "lastTransitionTime"), "2020-01-01T00:00:10Z");
  std::string flipped = Field(Condition(status, "ContainersReady"), "lastTransitionTime");
  EXPECT_FALSE(flipped.empty());
  EXPECT_NE(flipped, "2020-01-01T00:00:05Z");
  EXPECT_EQ(Field(status, "startTime"), "2020-01-01T00:00:00Z");
  EXPECT_TRUE(Condition(status, "Ready").at("lastProbeTime").is_null());
}

TEST_F(PodStatusTest, ConditionsOthersOwnAreKept) {
  rt_.containers = {Running("app", "c1")};
  bj::object pod = PodWithSpec(R"({"containers": [{"name": "app"}]})");
  pod["status"] = Obj(R"({"conditions": [
      {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"},
      {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI"},
      {"type": "Ready", "status": "False"}]})");
  bj::object status = Compute(pod);
  EXPECT_EQ(Field(Condition(status, "PodScheduled"), "lastTransitionTime"), "2020-01-01T00:00:00Z");
  EXPECT_EQ(Field(Condition(status, "DisruptionTarget"), "reason"), "EvictionByEvictionAPI");
  int ready = 0;
  for (const bj::value& c : status.at("conditions").as_array())
    ready += c.at("type").as_string() == "Ready";
  EXPECT_EQ(ready, 1);
  EXPECT_EQ(Field(Condition(status, "Ready"), "status"), "True");
}

TEST_F(PodStatusTest, PodScheduledIsSetByTheKubelet) {
  // Upstream generateAPIPodStatus appends PodScheduled=True itself (pods
  // bound by nodeName, static pods' mirrors).
  rt_.containers = {Running("app", "c1")};
  bj::object status = Compute(PodWithSpec(R"({"containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(Condition(status, "PodScheduled"), "status"), "True");
}

TEST_F(PodStatusTest, ReadinessGateMissingOrTrue) {
  rt_.containers = {Running("app", "c1")};
  bj::object pod = PodWithSpec(R"({"readinessGates": [{"conditionType": "example.com/lb"}],
                                   "containers": [{"name": "app"}]})");
  bj::object status = Compute(pod);
  EXPECT_EQ(Field(Condition(status, "ContainersReady"), "status"), "True");
  bj::object ready = Condition(status, "Ready");
  EXPECT_EQ(Field(ready, "status"), "False");
  EXPECT_EQ(Field(ready, "reason"), "ReadinessGatesNotReady");
  EXPECT_EQ(Field(ready, "message"),
            "corresponding condition of pod readiness gate \"example.com/lb\" does not exist.");
  pod["status"] = Obj(R"({"conditions": [{"type": "example.com/lb", "status": "True"}]})");
  status = Compute(pod);
  EXPECT_EQ(Field(Condition(status, "Ready"), "status"), "True");
  EXPECT_EQ(Field(Condition(status, "example.com/lb"), "status"), "True");
}

TEST_F(PodStatusTest, ReadinessGateFalseSaysSo) {
  rt_.containers = {Running("app", "c1")};
  bj::object pod = PodWithSpec(R"({"readinessGates": [{"conditionType": "example.com/lb"}],
                                   "containers": [{"name": "app"}]})");
  pod["status"] = Obj(R"({"conditions": [{"type": "example.com/lb", "status": "False"}]})");
  EXPECT_EQ(Field(Condition(Compute(pod), "Ready"), "message"),
            "the status of pod readiness gate \"example.com/lb\" is not \"True\", but False");
}

TEST_F(PodStatusTest, TwoMissingReadinessGatesGetOneSentenceEach) {
  rt_.containers = {Running("app", "c1")};
  bj::object pod = PodWithSpec(R"({"readinessGates": [{"conditionType": "a.example/x"},
                                                      {"conditionType": "b.example/y"}],
                                   "containers": [{"name": "app"}]})");
  EXPECT_EQ(Field(Condition(Compute(pod), "Ready"), "message"),
            "corresponding condition of pod readiness gate \"a.example/x\" does not exist., "
            "corresponding condition of pod readiness gate \"b.example/y\" does not exist.");
}

TEST_F(PodStatusTest, PodAndHostIps) {
  rt_.sandboxes[0].mutable_network()->add_additional_ips()->set_ip("fd00::5");
  rt_.containers = {Running("app", "c1")};
  in_.host_ips = {"192.168.1.10", "fd00::1"};
  bj::object status = Compute(PodWithSpec(R"({"containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "podIP"), "10.1.0.5");
  EXPECT_EQ(bj::serialize(status.at("podIPs")), R"([{"ip":"10.1.0.5"},{"ip":"fd00::5"}])");
  EXPECT_EQ(Field(status, "hostIP"), "192.168.1.10");
  EXPECT_EQ(bj::serialize(status.at("hostIPs")), R"([{"ip":"192.168.1.10"},{"ip":"fd00::1"}])");
  // Host network: the pod has the node's addresses.
  status = Compute(PodWithSpec(R"({"hostNetwork": true, "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(status, "podIP"), "192.168.1.10");
  EXPECT_EQ(bj::serialize(status.at("podIPs")), R"([{"ip":"192.168.1.10"},{"ip":"fd00::1"}])");
}

TEST_F(PodStatusTest, PodIpKeptAfterTheSandboxIsGone) {
  rt_.sandboxes.clear();
  rt_.containers = {Exited("app", "c1", 0)};
  bj::object pod = PodWithSpec(R"({"restartPolicy": "Never", "containers": [{"name": "app"}]})");
  pod["status"] = Obj(R"({"podIP": "10.1.0.9", "podIPs": [{"ip": "10.1.0.9"}]})");
  bj::object status = Compute(pod);
  EXPECT_EQ(Field(status, "podIP"), "10.1.0.9");
  EXPECT_EQ(Field(Condition(status, "PodReadyToStartContainers"), "status"), "False");
}

TEST_F(PodStatusTest, TerminationMessageFromFile) {
  in_.termination_messages_dir = dir_.path();
  ASSERT_TRUE(MkdirAll(dir_ / "app").ok());
  ASSERT_TRUE(WriteFile(dir_ / "app/1", "disk full\n").ok());
  rt_.containers = {Exited("app", "c2", 1, 1)};
  bj::object status = Compute(PodWithSpec(R"({"restartPolicy": "Never",
                                              "containers": [{"name": "app"}]})"));
  EXPECT_EQ(Field(ContainerStatus(status, 0).at("state").at("terminated").as_object(), "message"),
            "disk full\n");
}

class TerminationMessageTest : public ::testing::Test {
 protected:
  TerminationMessageTest() {
    c_ = Exited("app", "c1", 1);
    c_.set_log_path(dir_ / "app-0.log");
  }
  void WriteLog(const std::string& text) { ASSERT_TRUE(WriteFile(c_.log_path(), text).ok()); }
  std::string Message(const std::string& policy) {
    return TerminationMessage(c_, dir_.path(), policy);
  }

  berth::testing::TempDir dir_;
  v1::ContainerStatus c_;
};

TEST_F(TerminationMessageTest, FileWins) {
  ASSERT_TRUE(MkdirAll(dir_ / "app").ok());
  ASSERT_TRUE(WriteFile(dir_ / "app/0", "from file").ok());
  WriteLog("2024-01-01T00:00:00.000000001Z stderr F from log\n");
  EXPECT_EQ(Message("File"), "from file");
  EXPECT_EQ(Message("FallbackToLogsOnError"), "from file");
}

TEST_F(TerminationMessageTest, FileKeepsItsLast4KiB) {
  // Upstream reads with tail.ReadAtMost: the end of the file.
  ASSERT_TRUE(MkdirAll(dir_ / "app").ok());
  std::string text = std::string(1000, 'a') + std::string(4096, 'b');
  ASSERT_TRUE(WriteFile(dir_ / "app/0", text).ok());
  std::string message = Message("File");
  EXPECT_EQ(message.size(), 4096u);
  EXPECT_EQ(message.find('a'), std::string::npos) << "kept the start of the file, not its end";
}

TEST_F(TerminationMessageTest, FallbackToLogsOnErrorReadsTheLog) {
  WriteLog(
      "2024-01-01T00:00:00.000000001Z stdout F starting\n"
      "2024-01-01T00:00:00.000000002Z stderr P partial \n"
      "2024-01-01T00:00:00.000000003Z stderr F line\n"
      "2024-01-01T00:00:00.000000004Z stderr F fatal: boom\n");
  EXPECT_EQ(Message("FallbackToLogsOnError"), "starting\npartial line\nfatal: boom\n");
  EXPECT_EQ(Message("File"), "");
  c_.set_exit_code(0);  // only after a failure
  EXPECT_EQ(Message("FallbackToLogsOnError"), "");
}

TEST_F(TerminationMessageTest, LogFallbackKeepsTheLast80Lines) {
  std::string log;
  for (int i = 1; i <= 100; ++i)
    log += "2024-01-01T00:00:00.000000001Z stdout F l" + std::to_string(i) + "\n";
  WriteLog(log);
  std::string want;
  for (int i = 21; i <= 100; ++i)
    want += "l" + std::to_string(i) + "\n";
  EXPECT_EQ(Message("FallbackToLogsOnError"), want);
}

TEST_F(TerminationMessageTest, LogFallbackKeepsTheLast2KiB) {
  std::string log;
  for (int i = 0; i < 10; ++i)
    log += "2024-01-01T00:00:00.000000001Z stdout F " +
           std::string(499, static_cast<char>('a' + i)) + "\n";
  WriteLog(log);
  std::string message = Message("FallbackToLogsOnError");
  ASSERT_EQ(message.size(), 2048u);
  EXPECT_EQ(message.substr(message.size() - 500), std::string(499, 'j') + "\n");
}

TEST(ApiTimeTest, Rfc3339Seconds) {
  EXPECT_EQ(ApiTime(kT0 + 999'999'999), "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace berth::agent
