// `berth agent` over Debian's containerd 1.6 CRI socket (issue 7,
// acceptance 8): the node joins through TLS bootstrap, reports containerd
// as its runtime, and runs pods whose statuses, logs, exec and deletion
// are what kubelet gives over the same runtime. The tests run in file
// order on one stack and share its pods.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/file.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/agent-containerd/node_stack.h"

namespace berth::integration {
namespace {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;
using namespace std::chrono_literals;

const bj::value* At(const bj::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const bj::value* found = v.find_pointer(pointer, ec);
  return ec ? nullptr : found;
}
std::string Str(const bj::value& v, std::string_view pointer) {
  const bj::value* f = At(v, pointer);
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : "";
}
int64_t Int(const bj::value& v, std::string_view pointer) {
  const bj::value* f = At(v, pointer);
  return f != nullptr && f->is_int64() ? f->as_int64() : -1;
}
std::string Condition(const bj::value& object, std::string_view type) {
  const bj::value* conditions = At(object, "/status/conditions");
  if (conditions == nullptr || !conditions->is_array()) return "";
  for (const bj::value& c : conditions->as_array()) {
    if (Str(c, "/type") == type) return Str(c, "/status");
  }
  return "";
}
// status.containerStatuses[0] (every pod here has one container); null
// when absent.
bj::value Container(const bj::value& pod) {
  const bj::value* c = At(pod, "/status/containerStatuses/0");
  return c != nullptr ? *c : bj::value();
}

// Pods the tests run; terminationGracePeriodSeconds short and shells that
// leave on SIGTERM, so deletion is quick.
std::string Manifest(const std::string& image) {
  auto pod = [&](const std::string& name, const std::string& restart, const std::string& script,
                 const std::string& extra_container = "", const std::string& extra_spec = "") {
    return "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
           "\nspec:\n  restartPolicy: " + restart +
           "\n  terminationGracePeriodSeconds: 5\n  containers:\n  - name: app\n    image: " +
           image + "\n    imagePullPolicy: IfNotPresent\n    command: [\"/bin/sh\", \"-c\", \"" +
           script + "\"]\n" + extra_container + extra_spec;
  };
  const std::string serve = "trap 'exit 0' TERM; echo started; while true; do sleep 1; done";
  return R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: demo-config
data:
  greeting: hello-from-configmap
  file.txt: content of file.txt
)" + pod("sleeper", "Always", serve) +
         pod("never-ok", "Never", "echo done; exit 0") +
         pod("never-fail", "Never", "echo failing >&2; exit 1") +
         pod("on-failure", "OnFailure", "echo crash; exit 1") +
         pod("config", "Always", serve,
             "    env:\n    - name: GREETING\n      valueFrom:\n        configMapKeyRef:\n"
             "          name: demo-config\n          key: greeting\n"
             "    volumeMounts:\n    - name: demo\n      mountPath: /etc/demo\n",
             "  volumes:\n  - name: demo\n    configMap:\n      name: demo-config\n");
}

class AgentContainerdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string missing = MissingPrerequisites();
    ASSERT_TRUE(missing.empty()) << "prerequisite missing: " << missing;
    if (!testing::IsRoot()) return;  // SetUp says so
    Result<std::unique_ptr<NodeStack>> stack = NodeStack::Start();
    if (!stack.ok()) {
      startup_error_ = stack.error().str();
      return;
    }
    stack_ = std::move(*stack).release();
  }

  static void TearDownTestSuite() {
    if (stack_ == nullptr) return;
    Status down = stack_->Shutdown();
    EXPECT_TRUE(down.ok()) << down.error().str() << "\n" << stack_->Logs();
    delete stack_;
    stack_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(MissingPrerequisites().empty())
        << "prerequisite missing: " << MissingPrerequisites();
    BERTH_REQUIRE(testing::IsRoot(), "root (containerd, network and mount namespaces)");
    ASSERT_NE(stack_, nullptr) << "the stack did not start: " << startup_error_;
  }

  void TearDown() override {
    if (HasFailure() && stack_ != nullptr) std::fprintf(stderr, "%s", stack_->Logs().c_str());
  }

  static NodeStack& stack() { return *stack_; }

  static bj::value GetPod(const std::string& name) {
    return stack().Get("/api/v1/namespaces/default/pods/" + name);
  }

  // Polls the pod until `done` holds; the last pod seen.
  static bj::value WaitPod(const std::string& name, std::chrono::seconds timeout,
                           const std::function<bool(const bj::value&)>& done, bool* held) {
    bj::value pod;
    *held = Eventually(timeout, [&] {
      pod = GetPod(name);
      return !pod.is_null() && done(pod);
    });
    return pod;
  }

  CommandResult Kubectl(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    Result<CommandResult> r = stack().Kubectl(args, stdin_data);
    if (!r.ok()) {
      ADD_FAILURE() << "kubectl: " << r.error().str();
      return CommandResult{};
    }
    return *r;
  }

  // Sandboxes and containers containerd still has for the pod `uid`.
  int RuntimeObjectsOf(const std::string& uid) {
    v1::ListPodSandboxRequest sandboxes;
    (*sandboxes.mutable_filter()->mutable_label_selector())["io.kubernetes.pod.uid"] = uid;
    v1::ListPodSandboxResponse sandboxes_out;
    Status s = stack().cri().Call(&v1::RuntimeService::Stub::ListPodSandbox, sandboxes,
                                  &sandboxes_out, "ListPodSandbox");
    EXPECT_TRUE(s.ok()) << s.error().str();
    v1::ListContainersRequest containers;
    (*containers.mutable_filter()->mutable_label_selector())["io.kubernetes.pod.uid"] = uid;
    v1::ListContainersResponse containers_out;
    s = stack().cri().Call(&v1::RuntimeService::Stub::ListContainers, containers, &containers_out,
                           "ListContainers");
    EXPECT_TRUE(s.ok()) << s.error().str();
    return sandboxes_out.items_size() + containers_out.containers_size();
  }

  static inline NodeStack* stack_ = nullptr;
  static inline std::string startup_error_;
};

TEST_F(AgentContainerdTest, NodeJoinsThroughTlsBootstrapAndReportsContainerd) {
  bj::value node = stack().Get(std::string("/api/v1/nodes/") + kNodeName);
  ASSERT_FALSE(node.is_null());
  EXPECT_EQ(Condition(node, "Ready"), "True") << bj::serialize(node);
  std::string runtime = Str(node, "/status/nodeInfo/containerRuntimeVersion");
  EXPECT_TRUE(runtime.starts_with("containerd://1.6.")) << runtime;
  EXPECT_FALSE(Str(node, "/status/nodeInfo/kubeletVersion").empty());
  EXPECT_EQ(Str(node, "/metadata/labels/kubernetes.io~1hostname"), kNodeName);
  EXPECT_EQ(Str(node, "/status/addresses/0/address"), "127.0.0.1") << bj::serialize(node);
  EXPECT_GT(Int(node, "/status/daemonEndpoints/kubeletEndpoint/Port"), 0);

  // The agent's client certificate came from an approved and issued CSR
  // filed with the bootstrap token.
  bj::value csrs = stack().Get("/apis/certificates.k8s.io/v1/certificatesigningrequests");
  ASSERT_FALSE(csrs.is_null());
  int issued = 0;
  for (const bj::value& csr : csrs.at("items").as_array()) {
    if (Str(csr, "/spec/signerName") != "kubernetes.io/kube-apiserver-client-kubelet") continue;
    EXPECT_TRUE(Str(csr, "/spec/username").starts_with("system:bootstrap:")) << bj::serialize(csr);
    EXPECT_EQ(Condition(csr, "Approved"), "True") << bj::serialize(csr);
    issued += Str(csr, "/status/certificate").empty() ? 0 : 1;
  }
  EXPECT_EQ(issued, 1) << bj::serialize(csrs);
  EXPECT_TRUE(PathExists(stack().agent_kubeconfig()));

  bj::value lease = stack().Get(
      std::string("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/") + kNodeName);
  EXPECT_EQ(Str(lease, "/spec/holderIdentity"), kNodeName) << bj::serialize(lease);
}

TEST_F(AgentContainerdTest, PodsRunWithUpstreamStatuses) {
  CommandResult applied = Kubectl({"apply", "-f", "-"}, Manifest(stack().image()));
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;

  bool held = false;
  bj::value sleeper = WaitPod(
      "sleeper", 60s, [](const bj::value& p) { return Condition(p, "Ready") == "True"; }, &held);
  ASSERT_TRUE(held) << "sleeper not Ready: " << bj::serialize(sleeper);
  EXPECT_EQ(Str(sleeper, "/status/phase"), "Running");
  bj::value app = Container(sleeper);
  EXPECT_TRUE(Str(app, "/containerID").starts_with("containerd://")) << bj::serialize(app);
  EXPECT_NE(At(app, "/state/running/startedAt"), nullptr) << bj::serialize(app);
  EXPECT_EQ(bj::serialize(app.at("ready")), "true");
  EXPECT_EQ(bj::serialize(app.at("started")), "true");
  EXPECT_EQ(Int(app, "/restartCount"), 0);
  EXPECT_EQ(Str(app, "/image"), stack().image()) << bj::serialize(app);
  EXPECT_NE(Str(app, "/imageID").find("@sha256:"), std::string::npos) << bj::serialize(app);
  std::string pod_ip = Str(sleeper, "/status/podIP");
  EXPECT_TRUE(pod_ip.starts_with("10.88.9.")) << bj::serialize(sleeper.at("status"));
  EXPECT_EQ(Str(sleeper, "/status/hostIP"), "127.0.0.1");
  EXPECT_EQ(Str(sleeper, "/status/qosClass"), "BestEffort");
  for (const char* c :
       {"PodReadyToStartContainers", "Initialized", "ContainersReady", "PodScheduled"})
    EXPECT_EQ(Condition(sleeper, c), "True") << c;

  bj::value ok = WaitPod(
      "never-ok", 60s, [](const bj::value& p) { return Str(p, "/status/phase") == "Succeeded"; },
      &held);
  EXPECT_TRUE(held) << bj::serialize(ok);
  EXPECT_EQ(Str(Container(ok), "/state/terminated/reason"), "Completed") << bj::serialize(ok);
  EXPECT_EQ(Int(Container(ok), "/state/terminated/exitCode"), 0);
  EXPECT_TRUE(Str(Container(ok), "/state/terminated/containerID").starts_with("containerd://"));
  EXPECT_EQ(Condition(ok, "Ready"), "False");

  bj::value fail = WaitPod(
      "never-fail", 60s, [](const bj::value& p) { return Str(p, "/status/phase") == "Failed"; },
      &held);
  EXPECT_TRUE(held) << bj::serialize(fail);
  EXPECT_EQ(Str(Container(fail), "/state/terminated/reason"), "Error") << bj::serialize(fail);
  EXPECT_EQ(Int(Container(fail), "/state/terminated/exitCode"), 1);
  EXPECT_EQ(Int(Container(fail), "/restartCount"), 0);

  // OnFailure: restarted at once, then held back (10 s backoff), the pod
  // Running all along.
  bj::value crash = WaitPod(
      "on-failure", 60s,
      [](const bj::value& p) {
        return Int(Container(p), "/restartCount") >= 1 &&
               Str(Container(p), "/state/waiting/reason") == "CrashLoopBackOff";
      },
      &held);
  EXPECT_TRUE(held) << bj::serialize(crash);
  EXPECT_EQ(Str(crash, "/status/phase"), "Running") << bj::serialize(crash);
  EXPECT_EQ(Str(Container(crash), "/lastState/terminated/reason"), "Error");
  EXPECT_EQ(Int(Container(crash), "/lastState/terminated/exitCode"), 1);
  EXPECT_TRUE(
      Str(Container(crash), "/lastState/terminated/containerID").starts_with("containerd://"));

  bj::value config = WaitPod(
      "config", 60s, [](const bj::value& p) { return Condition(p, "Ready") == "True"; }, &held);
  ASSERT_TRUE(held) << bj::serialize(config);
  CommandResult file = Kubectl({"exec", "config", "--", "cat", "/etc/demo/file.txt"});
  EXPECT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(file.out, "content of file.txt");
  CommandResult env = Kubectl({"exec", "config", "--", "sh", "-c", "echo $GREETING"});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(env.out, "hello-from-configmap\n");
}

// The node's images are containerd's, named by tag and by digest.
TEST_F(AgentContainerdTest, NodeListsContainerdImages) {
  bj::value node;
  std::string digest_name = stack().image().substr(0, stack().image().rfind(':')) + "@sha256:";
  EXPECT_TRUE(Eventually(30s, [&] {
    node = stack().Get(std::string("/api/v1/nodes/") + kNodeName);
    const bj::value* images = At(node, "/status/images");
    if (images == nullptr || !images->is_array()) return false;
    for (const bj::value& image : images->as_array()) {
      bool tag = false, digest = false;
      const bj::value* names = At(image, "/names");
      if (names == nullptr || !names->is_array()) continue;
      for (const bj::value& n : names->as_array()) {
        tag |= n.is_string() && n.as_string() == stack().image();
        digest |= n.is_string() && n.as_string().starts_with(digest_name);
      }
      if (tag && digest && Int(image, "/sizeBytes") > 0) return true;
    }
    return false;
  })) << bj::serialize(node);
}

TEST_F(AgentContainerdTest, LogsAndExecGoThroughContainerdStreaming) {
  bj::value sleeper = GetPod("sleeper");
  ASSERT_FALSE(sleeper.is_null());
  std::string uid = Str(sleeper, "/metadata/uid");

  // containerd writes the CRI log where the agent asked.
  std::string log_file = stack().pod_logs_dir() + "/default_sleeper_" + uid + "/app/0.log";
  Result<std::string> raw = ReadFile(log_file);
  ASSERT_TRUE(raw.ok()) << raw.error().str();
  EXPECT_NE(raw->find(" stdout F started\n"), std::string::npos) << *raw;

  CommandResult logs = Kubectl({"logs", "sleeper"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "started\n");
  CommandResult stamped = Kubectl({"logs", "--timestamps", "never-fail"});
  EXPECT_EQ(stamped.exit_code, 0) << stamped.err;
  EXPECT_NE(stamped.out.find("Z failing\n"), std::string::npos) << stamped.out;
  CommandResult previous = Kubectl({"logs", "--previous", "on-failure"});
  EXPECT_EQ(previous.exit_code, 0) << previous.err;
  EXPECT_EQ(previous.out, "crash\n");

  CommandResult exec =
      Kubectl({"exec", "sleeper", "--", "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(exec.exit_code, 3) << exec.err;
  EXPECT_EQ(exec.out, "out\n");
  EXPECT_NE(exec.err.find("err\n"), std::string::npos) << exec.err;
  CommandResult piped = Kubectl({"exec", "-i", "sleeper", "--", "cat"}, "through stdin\n");
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, "through stdin\n");
}

// containerd 1.6 has no GetContainerEvents: the agent learns of a
// container that exits on its own (no API change) by relisting.
TEST_F(AgentContainerdTest, ContainerExitSeenByRelistAndRestarted) {
  bj::value before = GetPod("sleeper");
  ASSERT_FALSE(before.is_null());
  std::string first_id = Str(Container(before), "/containerID");
  CommandResult killed = Kubectl({"exec", "sleeper", "--", "kill", "1"});
  ASSERT_EQ(killed.exit_code, 0) << killed.err;
  bool held = false;
  bj::value after = WaitPod(
      "sleeper", 30s,
      [](const bj::value& p) {
        return Int(Container(p), "/restartCount") == 1 && Condition(p, "Ready") == "True";
      },
      &held);
  ASSERT_TRUE(held) << bj::serialize(after);
  bj::value app = Container(after);
  EXPECT_EQ(Str(app, "/lastState/terminated/reason"), "Completed") << bj::serialize(app);
  EXPECT_EQ(Int(app, "/lastState/terminated/exitCode"), 0);
  EXPECT_EQ(Str(app, "/lastState/terminated/containerID"), first_id);
  EXPECT_NE(Str(app, "/containerID"), first_id);
  EXPECT_TRUE(Str(app, "/containerID").starts_with("containerd://"));
  EXPECT_EQ(Str(after, "/status/phase"), "Running");
  CommandResult previous = Kubectl({"logs", "--previous", "sleeper"});
  EXPECT_EQ(previous.exit_code, 0) << previous.err;
  EXPECT_EQ(previous.out, "started\n");
}

TEST_F(AgentContainerdTest, DeletionLeavesNothingInContainerd) {
  std::vector<std::string> names = {"sleeper", "never-ok", "never-fail", "on-failure", "config"};
  std::vector<std::string> uids;
  for (const std::string& name : names) {
    bj::value pod = GetPod(name);
    ASSERT_FALSE(pod.is_null()) << name;
    uids.push_back(Str(pod, "/metadata/uid"));
    EXPECT_GT(RuntimeObjectsOf(uids.back()), 0) << name;
  }
  std::vector<std::string> args = {"delete", "pod", "--wait=false"};
  args.insert(args.end(), names.begin(), names.end());
  CommandResult deleted = Kubectl(args);
  ASSERT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_TRUE(Eventually(30s, [&] { return GetPod(names[i]).is_null(); }))
        << names[i] << " still in the API: " << bj::serialize(GetPod(names[i]));
    EXPECT_TRUE(Eventually(10s, [&] { return RuntimeObjectsOf(uids[i]) == 0; }))
        << names[i] << ": containerd still has " << RuntimeObjectsOf(uids[i])
        << " sandboxes and containers of it";
  }
  v1::ListPodSandboxRequest req;
  v1::ListPodSandboxResponse resp;
  ASSERT_TRUE(stack()
                  .cri()
                  .Call(&v1::RuntimeService::Stub::ListPodSandbox, req, &resp, "ListPodSandbox")
                  .ok());
  EXPECT_EQ(resp.items_size(), 0) << resp.DebugString();
}

}  // namespace
}  // namespace berth::integration
