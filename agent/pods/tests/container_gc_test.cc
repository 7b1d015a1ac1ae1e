// The per-pod container GC: what it picks (upstream's defaults) and what
// removing it takes along, against an in-process RuntimeService.

#include "agent/pods/container_gc.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "agent/pods/tests/fake_cri.h"
#include "agent/pods/tests/runtime_objects.h"
#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

using testing::Container;
using testing::Sandbox;

class ContainerGcTest : public ::testing::Test {
 protected:
  // Instance `attempt` of `name` in `sandbox`, created at `attempt`.
  void Add(const std::string& id, const std::string& name, uint32_t attempt,
           v1::ContainerState state, const std::string& sandbox = "s0",
           const std::string& log_path = "") {
    v1::ContainerStatus c = Container(id, "uid-1", name, attempt, attempt);
    c.set_state(state);
    c.set_log_path(log_path);
    cri_.runtime().AddContainer(c, sandbox);
  }
  RuntimePod Inspect() {
    Result<RuntimePod> pod = InspectPod(cri_.client(), "uid-1");
    EXPECT_TRUE(pod.ok()) << pod.error().str();
    return pod.ok() ? *pod : RuntimePod();
  }
  // Containers or sandboxes.
  template <typename T>
  static std::vector<std::string> SortedIds(const std::vector<const T*>& objects) {
    std::vector<std::string> out;
    out.reserve(objects.size());
    for (const T* o : objects)
      out.push_back(o->id());
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::FakeCri cri_;
};

TEST_F(ContainerGcTest, KeepsWhatRunsAndTheNewestExitedInstanceOfEachContainer) {
  cri_.runtime().AddSandbox(Sandbox("s0", "uid-1", 0, 1, true));
  Add("app-3", "app", 3, v1::CONTAINER_RUNNING);
  Add("app-2", "app", 2, v1::CONTAINER_EXITED);
  Add("app-1", "app", 1, v1::CONTAINER_EXITED);
  Add("app-0", "app", 0, v1::CONTAINER_EXITED);
  Add("crash-1", "crash", 1, v1::CONTAINER_EXITED);  // waiting in CrashLoopBackOff
  Add("crash-0", "crash", 0, v1::CONTAINER_EXITED);
  Add("init-0", "init", 0, v1::CONTAINER_EXITED);
  // A created instance is about to start: not dead, and no reason to
  // drop the exited one before it.
  Add("starting-1", "starting", 1, v1::CONTAINER_CREATED);
  Add("starting-0", "starting", 0, v1::CONTAINER_EXITED);
  RuntimePod rt = Inspect();
  ContainerGcPlan plan = PlanContainerGc(rt);
  EXPECT_EQ(SortedIds(plan.containers), (std::vector<std::string>{"app-0", "app-1", "crash-0"}));
  EXPECT_TRUE(plan.sandboxes.empty());
}

TEST_F(ContainerGcTest, DeadSandboxesGoOnceEmptyExceptTheNewest) {
  cri_.runtime().AddSandbox(Sandbox("s3", "uid-1", 3, 4, true));
  cri_.runtime().AddSandbox(Sandbox("s2", "uid-1", 2, 3, false));  // keeps app-1
  cri_.runtime().AddSandbox(Sandbox("s1", "uid-1", 1, 2, false));  // empties
  cri_.runtime().AddSandbox(Sandbox("s0", "uid-1", 0, 1, false));  // empty
  Add("app-2", "app", 2, v1::CONTAINER_RUNNING, "s3");
  Add("app-1", "app", 1, v1::CONTAINER_EXITED, "s2");
  Add("app-0", "app", 0, v1::CONTAINER_EXITED, "s1");
  RuntimePod rt = Inspect();
  ContainerGcPlan plan = PlanContainerGc(rt);
  EXPECT_EQ(SortedIds(plan.containers), std::vector<std::string>{"app-0"});
  // s1 is the newest dead and empty one: upstream keeps it while the pod lives.
  EXPECT_EQ(SortedIds(plan.sandboxes), std::vector<std::string>{"s0"});
}

TEST_F(ContainerGcTest, RemovalTakesTheLogsAndTerminationMessagesAlong) {
  berth::testing::TempDir dir;
  std::string logs = dir / "logs";
  std::string messages = dir / "messages";
  ASSERT_TRUE(MkdirAll(logs + "/app", 0755).ok());
  ASSERT_TRUE(MkdirAll(messages + "/app", 0755).ok());
  for (const char* f :
       {"0.log", "0.log.20261123-101010", "0.log.20261123-101011.gz", "1.log", "10.log", "2.log"}) {
    ASSERT_TRUE(WriteFileAtomic(logs + "/app/" + f, "x", 0644).ok());
  }
  for (const char* f : {"0", "1", "2", "10"})
    ASSERT_TRUE(WriteFileAtomic(messages + "/app/" + f, "", 0644).ok());
  cri_.runtime().AddSandbox(Sandbox("s1", "uid-1", 1, 2, true));
  cri_.runtime().AddSandbox(Sandbox("s0", "uid-1", 0, 1, false));
  cri_.runtime().AddSandbox(Sandbox("old", "uid-1", 0, 0, false));
  Add("app-10", "app", 10, v1::CONTAINER_RUNNING, "s1", logs + "/app/10.log");
  Add("app-2", "app", 2, v1::CONTAINER_EXITED, "s1", logs + "/app/2.log");
  Add("app-1", "app", 1, v1::CONTAINER_EXITED, "s0", logs + "/app/1.log");
  Add("app-0", "app", 0, v1::CONTAINER_EXITED, "s0", logs + "/app/0.log");

  Status collected = CollectContainerGarbage(cri_.client(), Inspect(), messages);
  ASSERT_TRUE(collected.ok()) << collected.error().str();

  RuntimePod after = Inspect();
  std::vector<std::string> left;
  for (const v1::ContainerStatus& c : after.containers)
    left.push_back(c.id());
  EXPECT_EQ(left, (std::vector<std::string>{"app-10", "app-2"}));
  std::vector<std::string> sandboxes;
  for (const v1::PodSandboxStatus& s : after.sandboxes)
    sandboxes.push_back(s.id());
  EXPECT_EQ(sandboxes, (std::vector<std::string>{"s1", "s0"}));
  std::vector<std::string> log_files = ListDir(logs + "/app").value_or({});
  std::sort(log_files.begin(), log_files.end());
  EXPECT_EQ(log_files, (std::vector<std::string>{"10.log", "2.log"}));
  std::vector<std::string> message_files = ListDir(messages + "/app").value_or({});
  std::sort(message_files.begin(), message_files.end());
  EXPECT_EQ(message_files, (std::vector<std::string>{"10", "2"}));
}

}  // namespace
}  // namespace berth::agent
