// Acceptance 5: graceful deletion. preStop runs before SIGTERM, a process
// that ignores SIGTERM gets SIGKILL at the grace deadline, and the pod
// object is gone afterwards; a pod deleted while its init container runs,
// or while its image cannot be pulled, is cleaned up (object gone, nothing
// of it left running in the runtime).

#include <chrono>
#include <thread>

#include "common/file.h"
#include "integration/e2e/e2e_fixture.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
namespace v1 = ::runtime::v1;

class DeletionTest : public E2eTest {
 protected:
  // Deletes the pod (kubectl delete --wait=false) and waits for the object
  // to go; how long that took.
  milliseconds DeleteAndWaitGone(const std::string& name, seconds timeout) {
    auto start = steady_clock::now();
    CommandResult deleted = Kubectl({"delete", "pod", name, "--wait=false"});
    EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
    bool gone = Eventually(timeout, [&] { return PodDeleted(name); });
    EXPECT_TRUE(gone) << "pod " << name << " still there " << timeout.count()
                      << " s after kubectl delete:\n"
                      << Describe(GetPod(name));
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  }

  std::vector<std::string> SandboxIds(const std::string& uid) {
    std::vector<std::string> ids;
    agent::CriClient* cri = Cri();
    if (cri == nullptr) return ids;
    v1::ListPodSandboxRequest list;
    (*list.mutable_filter()->mutable_label_selector())["io.kubernetes.pod.uid"] = uid;
    v1::ListPodSandboxResponse sandboxes;
    if (cri->Call(&v1::RuntimeService::Stub::ListPodSandbox, list, &sandboxes, "ListPodSandbox")
            .ok()) {
      for (const v1::PodSandbox& sb : sandboxes.items())
        ids.push_back(sb.id());
    }
    return ids;
  }

  // Our processes (berth up's shims) naming one of `ids`.
  std::vector<std::string> ProcessesFor(const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    for (const std::string& p : up().OurProcesses()) {
      for (const std::string& id : ids) {
        if (p.find(id) != std::string::npos) out.push_back(p);
      }
    }
    return out;
  }

  // Checks, after the pod object went, that nothing of it runs any more,
  // and reports (without failing) what the runtime still keeps of it.
  void ExpectCleanedUp(const std::string& uid, const std::vector<std::string>& sandbox_ids) {
    bool stopped = Eventually(seconds(10), [&] { return RuntimeObjectsOf(uid, true).empty(); });
    EXPECT_TRUE(stopped) << "still running in the runtime: "
                         << ::testing::PrintToString(RuntimeObjectsOf(uid, true));
    bool no_shims = Eventually(seconds(10), [&] { return ProcessesFor(sandbox_ids).empty(); });
    EXPECT_TRUE(no_shims) << ::testing::PrintToString(ProcessesFor(sandbox_ids));
    // As upstream's container GC: no log directory outlives its pod.
    bool logs_gone = Eventually(seconds(10), [&] {
      for (const std::string& entry : ListDir(up().logs_dir()).value_or(std::vector<std::string>{}))
        if (entry.ends_with("_" + uid)) return false;
      return true;
    });
    EXPECT_TRUE(logs_gone) << "the pod's log directory stays under " << up().logs_dir();
    std::vector<std::string> kept = RuntimeObjectsOf(uid, false);
    if (!kept.empty()) {
      std::printf("note: the runtime keeps (stopped) %s of deleted pod %s\n",
                  ::testing::PrintToString(kept).c_str(), uid.c_str());
    }
  }
};

TEST_F(DeletionTest, PreStopThenSigtermThenObjectGone) {
  std::string host_dir = up().dir() + "/hostpath-graceful";
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec:
  terminationGracePeriodSeconds: 15
  volumes: [{name: h, hostPath: {path: )" +
                    host_dir + R"(, type: DirectoryOrCreate}}]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    volumeMounts: [{name: h, mountPath: /h}]
    command: ["sh", "-c", "trap 'echo term >> /h/log; exit 0' TERM; echo started >> /h/log; while true; do sleep 0.2; done"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo prestop >> /h/log; sleep 1"]}
)"));
  WaitPod("graceful", "Running", seconds(30),
          [](const bj::value& p) { return StringAt(p, "/status/phase") == "Running"; });
  ASSERT_TRUE(Eventually(seconds(5), [&] {
    return ReadFile(host_dir + "/log").value_or("") == "started\n";
  })) << ReadFile(host_dir + "/log").value_or("(no log)");
  milliseconds took = DeleteAndWaitGone("graceful", seconds(20));
  EXPECT_EQ(ReadFile(host_dir + "/log").value_or("(no log)"), "started\nprestop\nterm\n");
  // preStop's 1 s, then the process exits on SIGTERM: well before the 15 s
  // grace period.
  EXPECT_LT(took, seconds(10)) << "took " << took.count() << " ms";
}

TEST_F(DeletionTest, SigkillAtGraceDeadline) {
  std::string host_dir = up().dir() + "/hostpath-stubborn";
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: h, hostPath: {path: )" +
                    host_dir + R"(, type: DirectoryOrCreate}}]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    volumeMounts: [{name: h, mountPath: /h}]
    command: ["sh", "-c", "trap 'echo term >> /h/log' TERM; echo started >> /h/log; while true; do sleep 0.2; done"]
)"));
  WaitPod("stubborn", "Running", seconds(30),
          [](const bj::value& p) { return StringAt(p, "/status/phase") == "Running"; });
  ASSERT_TRUE(Eventually(seconds(5),
                         [&] { return ReadFile(host_dir + "/log").value_or("") == "started\n"; }));
  std::string uid = StringAt(GetPod("stubborn"), "/metadata/uid");
  std::vector<std::string> sandboxes = SandboxIds(uid);
  milliseconds took = DeleteAndWaitGone("stubborn", seconds(20));
  // SIGTERM arrived (and was ignored), SIGKILL came at the 2 s deadline.
  EXPECT_EQ(ReadFile(host_dir + "/log").value_or("(no log)"), "started\nterm\n");
  EXPECT_GE(took, milliseconds(1900)) << "killed before the grace period ended";
  EXPECT_LT(took, seconds(7)) << "took " << took.count() << " ms for a 2 s grace period";
  ExpectCleanedUp(uid, sandboxes);
}

TEST_F(DeletionTest, DeletedDuringInitIsCleanedUp) {
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: initializing}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
)"));
  bj::value pod =
      WaitPod("initializing", "running its init container", seconds(30), [](const bj::value& p) {
        const bj::value* s = ContainerStatus(p, "init", true);
        return s != nullptr && Field(*s, "/state/running") != nullptr;
      });
  EXPECT_EQ(StringAt(pod, "/status/phase"), "Pending");
  EXPECT_EQ(Condition(pod, "Initialized"), "False");
  std::string uid = StringAt(pod, "/metadata/uid");
  std::vector<std::string> sandboxes = SandboxIds(uid);
  EXPECT_EQ(sandboxes.size(), 1u);
  DeleteAndWaitGone("initializing", seconds(15));
  ExpectCleanedUp(uid, sandboxes);
  // The app container was never made.
  for (const std::string& left : RuntimeObjectsOf(uid, false))
    EXPECT_EQ(left.find("container c "), std::string::npos) << left;
}

TEST_F(DeletionTest, DeletedWhileImageCannotBePulledIsCleanedUp) {
  // Nothing listens on 127.0.0.1:1 in the test's network namespace: every
  // pull fails at once and the pod sits in ErrImagePull / ImagePullBackOff.
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Pod
metadata: {name: unpullable}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: 127.0.0.1:1/berth-e2e/nothing:latest
    imagePullPolicy: Always
)"));
  bj::value pod =
      WaitPod("unpullable", "waiting on its image", seconds(30), [](const bj::value& p) {
        const bj::value* s = ContainerStatus(p, "c");
        std::string reason = s == nullptr ? "" : StringAt(*s, "/state/waiting/reason");
        return reason == "ErrImagePull" || reason == "ImagePullBackOff";
      });
  std::string uid = StringAt(pod, "/metadata/uid");
  std::vector<std::string> sandboxes = SandboxIds(uid);
  DeleteAndWaitGone("unpullable", seconds(15));
  ExpectCleanedUp(uid, sandboxes);
}

}  // namespace
}  // namespace berth::e2e
