// Acceptance 3: probes as kubelet runs them. A failing liveness probe
// restarts the container (restartCount, Unhealthy, Killing and BackOff
// events); a readiness probe flips the Ready condition and the pod's
// endpoint in the Service's EndpointSlice both ways; a startup probe holds
// liveness off until it succeeds.

#include <algorithm>
#include <thread>

#include "integration/e2e/e2e_fixture.h"

namespace berth::e2e {
namespace {

using std::chrono::seconds;

class ProbesTest : public E2eTest {
 protected:
  int64_t RestartCount(const std::string& pod, const std::string& container = "c") {
    bj::value p = GetPod(pod);
    const bj::value* c = ContainerStatus(p, container);
    return c == nullptr ? -1 : IntAt(*c, "/restartCount");
  }
  bool Has(const std::vector<std::string>& reasons, const std::string& reason) {
    return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
  }
  // The `ready` condition of `pod`'s endpoint in the EndpointSlices of
  // service `service`: "true", "false", or "" when it is not listed.
  std::string EndpointReady(const std::string& service, const std::string& pod) {
    bj::value slices =
        Get("/apis/discovery.k8s.io/v1/namespaces/" + ns() +
            "/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D" + service);
    const bj::value* items = Field(slices, "/items");
    if (items == nullptr || !items->is_array()) return "";
    for (const bj::value& slice : items->as_array()) {
      const bj::value* endpoints = Field(slice, "/endpoints");
      if (endpoints == nullptr || !endpoints->is_array()) continue;
      for (const bj::value& e : endpoints->as_array()) {
        if (StringAt(e, "/targetRef/name") != pod) continue;
        const bj::value* ready = Field(e, "/conditions/ready");
        if (ready == nullptr || !ready->is_bool()) return "";
        return ready->as_bool() ? "true" : "false";
      }
    }
    return "";
  }
};

TEST_F(ProbesTest, FailingLivenessRestartsWithEvents) {
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: unhealthy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 1
)"));
  // Killed at the first failure, restarted at once; killed again, then
  // held in back-off (10 s).
  bj::value pod = WaitPod("unhealthy", "restarted twice", seconds(40), [&](const bj::value& p) {
    const bj::value* c = ContainerStatus(p, "c");
    return c != nullptr && IntAt(*c, "/restartCount") >= 1 &&
           Has(EventReasons("unhealthy"), "BackOff");
  });
  std::vector<std::string> reasons = EventReasons("unhealthy");
  EXPECT_TRUE(Has(reasons, "Unhealthy")) << ::testing::PrintToString(reasons);
  EXPECT_TRUE(Has(reasons, "Killing")) << ::testing::PrintToString(reasons);
  EXPECT_TRUE(Has(reasons, "BackOff")) << ::testing::PrintToString(reasons);
  std::vector<std::string> unhealthy = EventMessages("unhealthy", "Unhealthy");
  ASSERT_FALSE(unhealthy.empty());
  EXPECT_TRUE(unhealthy[0].starts_with("Liveness probe failed:")) << unhealthy[0];
  std::vector<std::string> killing = EventMessages("unhealthy", "Killing");
  ASSERT_FALSE(killing.empty());
  EXPECT_EQ(killing[0], "Container c failed liveness probe, will be restarted");
  // The killed run is the last state: terminated by SIGKILL (137) or
  // SIGTERM (143), reason Error.
  const bj::value* c = ContainerStatus(pod, "c");
  ASSERT_NE(c, nullptr) << Describe(pod);
  EXPECT_EQ(StringAt(*c, "/lastState/terminated/reason"), "Error") << Describe(pod);
  int64_t code = IntAt(*c, "/lastState/terminated/exitCode");
  EXPECT_TRUE(code == 137 || code == 143) << Describe(pod);
}

TEST_F(ProbesTest, ReadinessTogglesReadyAndEndpointSlice) {
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: toggler, labels: {app: toggler}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    readinessProbe:
      exec: {command: ["sh", "-c", "test \"$(cat /tmp/ready)\" = yes"]}
      periodSeconds: 1
      failureThreshold: 1
      successThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {name: toggler}
spec:
  selector: {app: toggler}
  ports: [{port: 80, targetPort: 8080}]
)"));
  WaitPod("toggler", "Running, not Ready", seconds(30), [](const bj::value& p) {
    return StringAt(p, "/status/phase") == "Running" && Condition(p, "Ready") == "False" &&
           Condition(p, "ContainersReady") == "False";
  });
  EXPECT_TRUE(Eventually(seconds(10), [&] {
    return EndpointReady("toggler", "toggler") == "false";
  })) << Kubectl({"get", "endpointslices", "-o", "yaml"}).out;

  for (const char* flip : {"yes", "no", "yes"}) {
    bool ready = std::string(flip) == "yes";
    CommandResult wrote = Kubectl(
        {"exec", "toggler", "--", "sh", "-c", std::string("echo ") + flip + " > /tmp/ready"});
    ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
    WaitPod("toggler", ready ? "Ready" : "not Ready", seconds(10), [&](const bj::value& p) {
      const bj::value* c = ContainerStatus(p, "c");
      return Condition(p, "Ready") == (ready ? "True" : "False") && c != nullptr &&
             Field(*c, "/ready") != nullptr && c->at_pointer("/ready") == ready;
    });
    EXPECT_TRUE(Eventually(
        seconds(10),
        [&] { return EndpointReady("toggler", "toggler") == (ready ? "true" : "false"); }))
        << "EndpointSlice after readiness " << flip << ":\n"
        << Kubectl({"get", "endpointslices", "-o", "yaml"}).out;
  }
  EXPECT_EQ(RestartCount("toggler"), 0);
}

TEST_F(ProbesTest, StartupProbeHoldsOffLiveness) {
  // Liveness fails (and would restart at once) until /tmp/started says
  // "yes"; the startup probe checks the same file with a 60 s budget.
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: slowstart}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    startupProbe:
      exec: {command: ["sh", "-c", "test \"$(cat /tmp/started)\" = yes"]}
      periodSeconds: 1
      failureThreshold: 60
    livenessProbe:
      exec: {command: ["sh", "-c", "test \"$(cat /tmp/started)\" = yes"]}
      periodSeconds: 1
      failureThreshold: 1
)"));
  WaitPod("slowstart", "Running", seconds(30),
          [](const bj::value& p) { return StringAt(p, "/status/phase") == "Running"; });
  // Several startup failures, and liveness never ran.
  std::this_thread::sleep_for(seconds(5));
  bj::value pod = GetPod("slowstart");
  const bj::value* c = ContainerStatus(pod, "c");
  ASSERT_NE(c, nullptr) << Describe(pod);
  EXPECT_EQ(IntAt(*c, "/restartCount"), 0) << Describe(pod);
  EXPECT_TRUE(Field(*c, "/started") != nullptr && c->at_pointer("/started") == false)
      << Describe(pod);
  std::vector<std::string> unhealthy = EventMessages("slowstart", "Unhealthy");
  EXPECT_FALSE(unhealthy.empty()) << "no startup probe failure recorded";
  for (const std::string& m : unhealthy)
    EXPECT_TRUE(m.starts_with("Startup probe failed:")) << m;
  EXPECT_FALSE(Has(EventReasons("slowstart"), "Killing"));

  // Startup succeeds: started, and liveness (now passing) leaves it alone.
  CommandResult wrote = Kubectl({"exec", "slowstart", "--", "sh", "-c", "echo yes > /tmp/started"});
  ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
  WaitPod("slowstart", "started", seconds(10), [](const bj::value& p) {
    const bj::value* s = ContainerStatus(p, "c");
    return s != nullptr && Field(*s, "/started") != nullptr && s->at_pointer("/started") == true;
  });
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(RestartCount("slowstart"), 0);

  // Liveness was armed all along: once the file says otherwise, it kills.
  wrote = Kubectl({"exec", "slowstart", "--", "sh", "-c", "echo no > /tmp/started"});
  ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
  WaitPod("slowstart", "restarted by liveness", seconds(15), [](const bj::value& p) {
    const bj::value* s = ContainerStatus(p, "c");
    return s != nullptr && IntAt(*s, "/restartCount") == 1;
  });
  bool liveness_failed = false;
  for (const std::string& m : EventMessages("slowstart", "Unhealthy"))
    liveness_failed = liveness_failed || m.starts_with("Liveness probe failed:");
  EXPECT_TRUE(liveness_failed);
}

}  // namespace
}  // namespace berth::e2e
