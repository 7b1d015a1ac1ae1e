#pragma once
// bench/pod-e2e: a one-server cluster with up to two nodes, each a `berth
// agent` process of its own (so its memory is its own):
//   - "berth": the agent over berth's runtime in its process (as `berth up`
//     runs it: berth-cni-bridge, berth-shim, berth-pause);
//   - "containerd": the agent over Debian's containerd 1.6 CRI socket
//     (runc, Debian's bridge/host-local/portmap CNI plugins, berth-pause as
//     the sandbox image).
// Both have berth.local/demo:latest, built by examples/build-demo-image
// (the archive it imports into berth's store is also imported into
// containerd with `ctr -n k8s.io images import`). The agents' identities
// are client certificates from the server's CA (CN system:node:<name>, O
// system:nodes). Everything lives in one directory; each node's volatile
// state (berth's run root; containerd's state and runc root) is a tmpfs
// there, as /run is on a node; pods' cgroups are below this process's own
// cgroup. The caller is root, in network and mount namespaces of its own.
//
// Lifecycle: Start -> StartNode(...)... -> Shutdown.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "bench/pod_e2e_memory.h"
#include "common/error.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/client/api_client.h"
#include "integration/containerd/containerd_daemon.h"
#include "integration/priv/harness/host.h"

namespace berth::bench::pod_e2e {

inline constexpr char kNamespace[] = "pod-e2e";
inline constexpr char kDemoImage[] = "berth.local/demo:latest";

// What the bench needs on the host; "" when all is there.
std::string MissingPrerequisites();

class Node {
 public:
  Node(std::string runtime, std::string dir);
  ~Node();  // Stop(), errors ignored
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& runtime() const { return runtime_; }  // "berth" | "containerd"
  std::string name() const { return "pod-e2e-" + runtime_; }
  const std::string& dir() const { return dir_; }
  pid_t agent_pid() const { return agent_.get(); }
  // containerd's pid; -1 for berth (the runtime is in the agent).
  pid_t runtime_pid() const;
  ShimMatcher shims() const;
  std::string agent_log() const { return dir_ + "/agent.log"; }
  // Our own CRI client on the runtime's socket.
  agent::CriClient& cri() { return *cri_; }
  // Sandboxes the runtime has in state SANDBOX_READY.
  Result<int> ReadySandboxes();

  // Stops the agent (SIGTERM; pods keep running as kubelet leaves them),
  // then removes every sandbox and the runtime's state: containerd's
  // sandboxes through its CRI, then containerd; berth's with `berth
  // reset`. Unmounts what is left below dir(). Idempotent; the first error.
  Status Stop();

 private:
  friend class Cluster;
  Status StartContainerd();
  Status StartAgent(const std::string& kubeconfig, const std::string& kubelet_config);
  Status DialCri(const std::string& endpoint);
  std::string berth_run_root() const { return dir_ + "/run"; }
  std::string berth_data() const { return dir_ + "/data"; }

  std::string runtime_;
  std::string dir_;
  priv::CgroupTree cgroups_;
  std::unique_ptr<integration::Containerd> containerd_;
  std::unique_ptr<agent::CriClient> cri_;
  ChildGuard agent_;
  bool stopped_ = false;
};

class Cluster {
 public:
  // Builds the images, starts `berth server`, creates the bench namespace
  // and waits until pods are admitted there (service account, root CA).
  // Its directory is under $TMPDIR (or /tmp).
  static Result<std::unique_ptr<Cluster>> Start();
  ~Cluster();  // Shutdown(), errors ignored
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts the node for `runtime` ("berth" or "containerd") and waits
  // until it is Ready.
  Result<Node*> StartNode(const std::string& runtime);
  pid_t server_pid() const { return server_.get(); }
  const controlplane::client::ClientConfig& admin() const { return admin_; }
  controlplane::client::ApiClient& api() { return *api_; }
  const std::string& dir() const { return dir_.path(); }
  // Deletes every pod of the namespace, waits until they are gone (60 s).
  Status DeleteAllPods();
  // Copies the logs (server, agents, containerd) to `log_dir`.
  void KeepLogs(const std::string& log_dir) const;
  // Deletes the pods, stops the nodes, then the server; unmounts what is
  // left below dir(). Idempotent; the first error.
  Status Shutdown();

 private:
  Cluster();
  Status BuildImages();
  Status StartServer();
  Status PrepareNamespace();
  Result<std::string> NodeKubeconfig(const std::string& node_name);
  Status WaitNodeReady(Node& node);

  testing::TempDir dir_;
  ChildGuard server_;
  uint16_t port_ = 0;
  controlplane::client::ClientConfig admin_;
  std::unique_ptr<controlplane::client::ApiClient> api_;
  std::vector<std::unique_ptr<Node>> nodes_;
  bool shut_down_ = false;
};

}  // namespace berth::bench::pod_e2e
