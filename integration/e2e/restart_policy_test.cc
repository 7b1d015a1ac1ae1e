// Acceptance 4: the restart-policy table. Each of Always / OnFailure /
// Never with a container exiting 0 and one exiting 1 ends in upstream's
// phase and container states (kubelet getPhase and the CrashLoopBackOff
// waiting state). OOM kills belong to the vm tier (memory limits need the
// cgroup tree a VM gives), not here.

#include <cctype>
#include <thread>

#include "integration/e2e/e2e_fixture.h"

namespace berth::e2e {
namespace {

using std::chrono::seconds;

struct Case {
  std::string policy;
  int exit_code;
  std::string phase;
  // The container's state: "waiting CrashLoopBackOff" or
  // "terminated <reason> <exitCode>".
  std::string state;
  bool restarts;
  // lastState.terminated for restarted containers: "<reason> <exitCode>".
  std::string last_state;
};

std::string Name(const Case& c) {
  std::string p = c.policy;
  for (char& ch : p)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return p + "-exit" + std::to_string(c.exit_code);
}

class RestartPolicyTest : public E2eTest {};

TEST_F(RestartPolicyTest, PhasesAndContainerStates) {
  const std::vector<Case> cases = {
      {"Always", 0, "Running", "waiting CrashLoopBackOff", true, "Completed 0"},
      {"Always", 1, "Running", "waiting CrashLoopBackOff", true, "Error 1"},
      {"OnFailure", 0, "Succeeded", "terminated Completed 0", false, ""},
      {"OnFailure", 1, "Running", "waiting CrashLoopBackOff", true, "Error 1"},
      {"Never", 0, "Succeeded", "terminated Completed 0", false, ""},
      {"Never", 1, "Failed", "terminated Error 1", false, ""},
  };
  std::string manifests;
  for (const Case& c : cases) {
    manifests += "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + Name(c) +
                 "}\nspec:\n  restartPolicy: " + c.policy +
                 "\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: c\n"
                 "    image: berth.local/demo:latest\n    imagePullPolicy: Never\n"
                 "    command: [\"sh\", \"-c\", \"exit " +
                 std::to_string(c.exit_code) + "\"]\n";
  }
  ASSERT_TRUE(Apply(manifests));
  for (const Case& c : cases) {
    SCOPED_TRACE(Name(c));
    bj::value pod =
        WaitPod(Name(c), c.phase + " / " + c.state, seconds(40), [&](const bj::value& p) {
          const bj::value* s = ContainerStatus(p, "c");
          return s != nullptr && StringAt(p, "/status/phase") == c.phase &&
                 StateOf(*s) == c.state && (!c.restarts || IntAt(*s, "/restartCount") >= 1);
        });
    const bj::value* s = ContainerStatus(pod, "c");
    ASSERT_NE(s, nullptr) << Describe(pod);
    EXPECT_EQ(StringAt(pod, "/status/phase"), c.phase) << Describe(pod);
    EXPECT_EQ(StateOf(*s), c.state) << Describe(pod);
    EXPECT_EQ(Field(*s, "/ready") != nullptr && s->at_pointer("/ready") == true, false);
    if (c.restarts) {
      EXPECT_GE(IntAt(*s, "/restartCount"), 1) << Describe(pod);
      const bj::value* last = Field(*s, "/lastState/terminated");
      ASSERT_NE(last, nullptr) << Describe(pod);
      EXPECT_EQ(StringAt(*last, "/reason") + " " + std::to_string(IntAt(*last, "/exitCode")),
                c.last_state)
          << Describe(pod);
      EXPECT_NE(StringAt(*s, "/state/waiting/message").find("back-off"), std::string::npos)
          << Describe(pod);
    } else {
      EXPECT_EQ(IntAt(*s, "/restartCount"), 0) << Describe(pod);
      // A finished pod is not Ready, for the reason upstream gives.
      EXPECT_EQ(Condition(pod, "Ready"), "False") << Describe(pod);
    }
  }
  // Finished pods stay as they are: no restart sneaks in afterwards.
  std::this_thread::sleep_for(seconds(2));
  for (const Case& c : cases) {
    if (c.restarts) continue;
    bj::value pod = GetPod(Name(c));
    const bj::value* s = ContainerStatus(pod, "c");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(IntAt(*s, "/restartCount"), 0) << Name(c) << ": " << Describe(pod);
    EXPECT_EQ(StringAt(pod, "/status/phase"), c.phase) << Name(c);
  }
}

// Container GC: a crashing container keeps its newest exited instance
// (lastState, `kubectl logs --previous`) and nothing older, as kubelet
// does with its defaults; without it every restart leaves one behind.
TEST_F(RestartPolicyTest, ACrashingContainerLeavesOnlyItsPreviousInstance) {
  ASSERT_TRUE(
      Apply("apiVersion: v1\nkind: Pod\nmetadata: {name: crasher}\nspec:\n"
            "  terminationGracePeriodSeconds: 1\n  containers:\n  - name: c\n"
            "    image: berth.local/demo:latest\n    imagePullPolicy: Never\n"
            "    command: [\"sh\", \"-c\", \"echo crashed; exit 1\"]\n"));
  bj::value pod = WaitPod("crasher", "restartCount 2", seconds(60), [](const bj::value& p) {
    const bj::value* s = ContainerStatus(p, "c");
    return s != nullptr && IntAt(*s, "/restartCount") >= 2;
  });
  std::string uid = StringAt(pod, "/metadata/uid");
  ASSERT_FALSE(uid.empty()) << Describe(pod);
  auto containers = [&] {
    int n = 0;
    for (const std::string& o : RuntimeObjectsOf(uid))
      if (o.starts_with("container ")) ++n;
    return n;
  };
  // Three instances exist by now; the sync that started the third removes
  // the first (and the second too once the third has exited).
  EXPECT_TRUE(Eventually(seconds(5), [&] {
    int n = containers();
    return n >= 1 && n <= 2;
  })) << ::testing::PrintToString(RuntimeObjectsOf(uid));
  CommandResult previous = Kubectl({"logs", "crasher", "--previous"});
  EXPECT_EQ(previous.exit_code, 0) << previous.err;
  EXPECT_EQ(previous.out, "crashed\n");
}

}  // namespace
}  // namespace berth::e2e
