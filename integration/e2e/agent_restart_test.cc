// Acceptance 7: kill -9 of `berth up` (control plane and agent together)
// and a restart with the same flags. Running pods keep running through it
// (same container IDs, restartCount unchanged, still serving), statuses
// stay correct (a container that finished while the agent was down is
// reported as such), and nothing is duplicated or leaked: the same
// sandboxes, containers and shim processes as before.

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "common/file.h"
#include "integration/e2e/e2e_fixture.h"
#include "integration/e2e/http_get.h"

namespace berth::e2e {
namespace {

using std::chrono::seconds;
namespace v1 = ::runtime::v1;

class AgentRestartTest : public E2eTest {
 protected:
  // Sandbox and container IDs (with state) the runtime has, per pod UID.
  std::map<std::string, std::set<std::string>> RuntimeObjects() {
    std::map<std::string, std::set<std::string>> out;
    agent::CriClient* cri = Cri();
    if (cri == nullptr) return out;
    v1::ListPodSandboxRequest list;
    v1::ListPodSandboxResponse sandboxes;
    EXPECT_TRUE(
        cri->Call(&v1::RuntimeService::Stub::ListPodSandbox, list, &sandboxes, "ListPodSandbox")
            .ok());
    for (const v1::PodSandbox& s : sandboxes.items()) {
      out[s.metadata().uid()].insert("sandbox " + s.id() + " " +
                                     v1::PodSandboxState_Name(s.state()));
    }
    v1::ListContainersRequest list_c;
    v1::ListContainersResponse containers;
    EXPECT_TRUE(
        cri->Call(&v1::RuntimeService::Stub::ListContainers, list_c, &containers, "ListContainers")
            .ok());
    for (const v1::Container& c : containers.containers()) {
      auto uid = c.labels().find("io.kubernetes.pod.uid");
      out[uid == c.labels().end() ? "?" : uid->second].insert(
          "container " + c.metadata().name() + " " + c.id() + " attempt " +
          std::to_string(c.metadata().attempt()));
    }
    return out;
  }
  // The shims (our processes other than berth up itself).
  std::set<std::string> Shims() {
    std::set<std::string> out;
    for (const std::string& p : up().OurProcesses()) {
      if (p.find(" up ") == std::string::npos) out.insert(p);
    }
    return out;
  }
};

struct Seen {
  std::string container_id;
  int64_t created = 0;  // Created events so far
  int64_t killing = 0;
  int64_t restart_count = -1;
  std::string started_at;
  std::string start_time;
};

Seen SeenOf(const bj::value& pod) {
  Seen s;
  if (const bj::value* c = ContainerStatus(pod, "c")) {
    s.container_id = StringAt(*c, "/containerID");
    s.restart_count = IntAt(*c, "/restartCount");
    s.started_at = StringAt(*c, "/state/running/startedAt");
  }
  s.start_time = StringAt(pod, "/status/startTime");
  return s;
}

TEST_F(AgentRestartTest, Kill9AndRestartKeepsPodsAsTheyAre) {
  std::string host_dir = up().dir() + "/hostpath-restart";
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: steady}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: crashed-once}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: d, emptyDir: {}}]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    volumeMounts: [{name: d, mountPath: /d}]
    command: ["sh", "-c", "if [ -f /d/once ]; then exec sleep 3600; fi; echo > /d/once; exit 1"]
---
apiVersion: v1
kind: Pod
metadata: {name: finisher}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes: [{name: h, hostPath: {path: )" +
                    host_dir + R"(, type: DirectoryOrCreate}}]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    volumeMounts: [{name: h, mountPath: /h}]
    command: ["sh", "-c", "while [ ! -f /h/go ]; do sleep 0.2; done; exit 0"]
)"));
  bj::value steady = WaitPod("steady", "Ready", seconds(30), IsReady);
  bj::value crashed =
      WaitPod("crashed-once", "running after one restart", seconds(30), [](const bj::value& p) {
        const bj::value* c = ContainerStatus(p, "c");
        return IsReady(p) && c != nullptr && IntAt(*c, "/restartCount") == 1;
      });
  bj::value finisher = WaitPod("finisher", "Ready", seconds(30), IsReady);
  ASSERT_FALSE(HasFailure());
  Seen steady_before = SeenOf(steady);
  Seen crashed_before = SeenOf(crashed);
  for (auto [name, seen] :
       {std::pair{"steady", &steady_before}, {"crashed-once", &crashed_before}}) {
    seen->created = EventCount(name, "Created");
    seen->killing = EventCount(name, "Killing");
  }
  EXPECT_EQ(crashed_before.created, 2);
  const Seen finisher_before = SeenOf(finisher);
  std::string ip = StringAt(steady, "/status/podIP");
  std::map<std::string, std::set<std::string>> runtime_before = RuntimeObjects();
  std::set<std::string> shims_before = Shims();
  ASSERT_EQ(shims_before.size(), 3u) << ::testing::PrintToString(shims_before);

  up().Kill9();
  // Nothing of berth up answers now; the pods still do.
  Result<HttpAnswer> answer = HttpGet(ip, 8080, "/");
  ASSERT_TRUE(answer.ok()) << "the pod stopped serving when berth up died: "
                           << answer.error().str();
  EXPECT_EQ(answer->body, "hello from berth\n");
  // The finisher's container exits while no agent watches.
  ASSERT_TRUE(WriteFileAtomic(host_dir + "/go", "", 0644).ok());
  std::this_thread::sleep_for(std::chrono::seconds(1));

  Status restarted = up().Restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().str();

  // The finished container is reported as finished.
  bj::value done = WaitPod("finisher", "Succeeded", seconds(30), [](const bj::value& p) {
    const bj::value* c = ContainerStatus(p, "c");
    return StringAt(p, "/status/phase") == "Succeeded" && c != nullptr &&
           StringAt(*c, "/state/terminated/reason") == "Completed";
  });
  EXPECT_EQ(SeenOf(done).container_id, finisher_before.container_id);
  EXPECT_EQ(SeenOf(done).restart_count, 0);

  // Give the restarted agent time to act on anything it might wrongly do.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  for (const auto& [name, before] :
       {std::pair<std::string, Seen>{"steady", steady_before}, {"crashed-once", crashed_before}}) {
    SCOPED_TRACE(name);
    bj::value pod = GetPod(name);
    Seen now = SeenOf(pod);
    EXPECT_EQ(StringAt(pod, "/status/phase"), "Running") << Describe(pod);
    EXPECT_TRUE(IsReady(pod)) << Describe(pod);
    EXPECT_EQ(now.container_id, before.container_id) << Describe(pod);
    EXPECT_EQ(now.restart_count, before.restart_count) << Describe(pod);
    EXPECT_EQ(now.started_at, before.started_at) << Describe(pod);
    EXPECT_EQ(now.start_time, before.start_time) << Describe(pod);
    // No container made or killed since.
    EXPECT_EQ(EventCount(name, "Created"), before.created)
        << ::testing::PrintToString(EventReasons(name));
    EXPECT_EQ(EventCount(name, "Killing"), before.killing)
        << ::testing::PrintToString(EventReasons(name));
  }
  answer = HttpGet(ip, 8080, "/");
  ASSERT_TRUE(answer.ok()) << answer.error().str();

  // The same sandboxes and containers (the finisher's now exited), and
  // the same shims: nothing duplicated, nothing leaked.
  std::map<std::string, std::set<std::string>> runtime_after = RuntimeObjects();
  for (const auto& [uid, objects] : runtime_after) {
    auto before = runtime_before.find(uid);
    ASSERT_NE(before, runtime_before.end())
        << "new in the runtime: " << ::testing::PrintToString(objects);
    if (uid == StringAt(finisher, "/metadata/uid")) {
      EXPECT_EQ(objects.size(), before->second.size()) << ::testing::PrintToString(objects);
      continue;
    }
    EXPECT_EQ(objects, before->second);
  }
  EXPECT_EQ(runtime_after.size(), runtime_before.size());
  std::set<std::string> shims_after = Shims();
  std::set<std::string> finisher_shims;
  for (const std::string& s : shims_before) {
    if (shims_after.count(s) == 0) finisher_shims.insert(s);
  }
  for (const std::string& s : shims_after)
    EXPECT_EQ(shims_before.count(s), 1u) << "a new shim: " << s;
  EXPECT_LE(finisher_shims.size(), 1u) << ::testing::PrintToString(finisher_shims);
}

}  // namespace
}  // namespace berth::e2e
