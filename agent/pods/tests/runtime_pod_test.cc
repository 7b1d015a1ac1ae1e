// InspectPod against an in-process RuntimeService, and the RuntimePod
// queries the worker builds on (newest sandbox, current instance).

#include "agent/pods/runtime_pod.h"

#include <gtest/gtest.h>

#include "agent/pods/sandbox_config.h"
#include "agent/pods/tests/fake_cri.h"
#include "agent/pods/tests/runtime_objects.h"

namespace berth::agent {
namespace {

using testing::Container;
using testing::Sandbox;

std::vector<std::string> Ids(const std::vector<const v1::ContainerStatus*>& cs) {
  std::vector<std::string> out;
  out.reserve(cs.size());
  for (const v1::ContainerStatus* c : cs)
    out.push_back(c->id());
  return out;
}

class InspectPodTest : public ::testing::Test {
 protected:
  RuntimePod Inspect(const std::string& uid = "uid-1") {
    Result<RuntimePod> pod = InspectPod(cri_.client(), uid);
    EXPECT_TRUE(pod.ok()) << pod.error().str();
    return pod.ok() ? *pod : RuntimePod();
  }

  testing::FakeCri cri_;
};

TEST_F(InspectPodTest, NothingInTheRuntime) {
  RuntimePod pod = Inspect();
  EXPECT_EQ(pod.Sandbox(), nullptr);
  EXPECT_FALSE(pod.SandboxReady());
  EXPECT_EQ(pod.Current("app"), nullptr);
  EXPECT_TRUE(pod.Instances("app").empty());
  EXPECT_TRUE(pod.PodIps().empty());
}

TEST_F(InspectPodTest, SelectsByPodUid) {
  cri_.runtime().AddSandbox(Sandbox("mine", "uid-1", 0, 100, true));
  cri_.runtime().AddSandbox(Sandbox("theirs", "uid-2", 5, 900, true));
  cri_.runtime().AddContainer(Container("c-mine", "uid-1", "app", 0, 110), "mine");
  cri_.runtime().AddContainer(Container("c-theirs", "uid-2", "app", 3, 910), "theirs");
  RuntimePod pod = Inspect();
  ASSERT_EQ(pod.sandboxes.size(), 1u);
  EXPECT_EQ(pod.sandboxes[0].id(), "mine");
  ASSERT_EQ(pod.containers.size(), 1u);
  EXPECT_EQ(pod.containers[0].id(), "c-mine");
  for (const auto& selector : cri_.runtime().selectors()) {
    EXPECT_EQ(selector, (std::map<std::string, std::string>{{kPodUidLabel, "uid-1"}}));
  }
  EXPECT_EQ(cri_.runtime().selectors().size(), 2u);
}

TEST_F(InspectPodTest, NewestFirstAcrossSandboxAttempts) {
  // Listed oldest first; attempt decides, then creation time.
  cri_.runtime().AddSandbox(Sandbox("sb0", "uid-1", 0, 100, false));
  cri_.runtime().AddSandbox(Sandbox("sb1", "uid-1", 1, 200, true));
  cri_.runtime().AddContainer(Container("app-0", "uid-1", "app", 0, 110), "sb0");
  cri_.runtime().AddContainer(Container("app-1", "uid-1", "app", 1, 120), "sb0");
  cri_.runtime().AddContainer(Container("side-0", "uid-1", "side", 0, 115), "sb0");
  cri_.runtime().AddContainer(Container("app-2", "uid-1", "app", 2, 210), "sb1");
  RuntimePod pod = Inspect();
  ASSERT_EQ(pod.sandboxes.size(), 2u);
  EXPECT_EQ(pod.sandboxes[0].id(), "sb1");
  EXPECT_TRUE(pod.SandboxReady());
  EXPECT_EQ(Ids(pod.Instances("app")), (std::vector<std::string>{"app-2", "app-1", "app-0"}));
  ASSERT_NE(pod.Current("app"), nullptr);
  EXPECT_EQ(pod.Current("app")->id(), "app-2");
  EXPECT_EQ(SandboxIdOf(*pod.Current("app")), "sb1");
  EXPECT_EQ(Attempt(*pod.Current("app")), 2u);
  // An instance only in an older sandbox is history, not current.
  EXPECT_EQ(Ids(pod.Instances("side")), (std::vector<std::string>{"side-0"}));
  EXPECT_EQ(pod.Current("side"), nullptr);
  EXPECT_EQ(SandboxIdOf(*pod.Instances("side")[0]), "sb0");
}

TEST_F(InspectPodTest, SameAttemptNewerCreationFirst) {
  cri_.runtime().AddSandbox(Sandbox("old", "uid-1", 0, 100, false));
  cri_.runtime().AddSandbox(Sandbox("new", "uid-1", 0, 300, true));
  cri_.runtime().AddContainer(Container("a-old", "uid-1", "app", 0, 150), "new");
  cri_.runtime().AddContainer(Container("a-new", "uid-1", "app", 0, 350), "new");
  RuntimePod pod = Inspect();
  ASSERT_NE(pod.Sandbox(), nullptr);
  EXPECT_EQ(pod.Sandbox()->id(), "new");
  ASSERT_NE(pod.Current("app"), nullptr);
  EXPECT_EQ(pod.Current("app")->id(), "a-new");
}

TEST_F(InspectPodTest, ObjectsGoneMeanwhileAreSkipped) {
  cri_.runtime().AddSandbox(Sandbox("sb0", "uid-1", 0, 100, true));
  cri_.runtime().AddSandbox(Sandbox("sb1", "uid-1", 1, 200, true));
  cri_.runtime().AddContainer(Container("app-0", "uid-1", "app", 0, 110), "sb0");
  cri_.runtime().AddContainer(Container("app-1", "uid-1", "app", 1, 210), "sb1");
  cri_.runtime().Vanish("sb1");
  cri_.runtime().Vanish("app-1");
  RuntimePod pod = Inspect();
  ASSERT_EQ(pod.sandboxes.size(), 1u);
  ASSERT_NE(pod.Sandbox(), nullptr);
  EXPECT_EQ(pod.Sandbox()->id(), "sb0");
  EXPECT_EQ(Ids(pod.Instances("app")), (std::vector<std::string>{"app-0"}));
  ASSERT_NE(pod.Current("app"), nullptr);
  EXPECT_EQ(pod.Current("app")->id(), "app-0");
}

TEST(RuntimePodTest, PodIpsFromTheNewestSandbox) {
  RuntimePod pod;
  v1::PodSandboxStatus s;
  s.set_id("sb");
  s.set_state(v1::SANDBOX_READY);
  s.mutable_network()->set_ip("10.1.0.5");
  s.mutable_network()->add_additional_ips()->set_ip("fd00::5");
  pod.sandboxes.push_back(s);
  EXPECT_EQ(pod.PodIps(), (std::vector<std::string>{"10.1.0.5", "fd00::5"}));
  pod.sandboxes[0].mutable_network()->set_ip("");
  EXPECT_TRUE(pod.PodIps().empty());
}

}  // namespace
}  // namespace berth::agent
