#pragma once
// A one-node cluster whose node runs on Debian's containerd: a
// docker-registry with the busybox and pause images, containerd 1.6 with
// its CRI plugin (Debian's CNI plugins, plain-HTTP pulls from the
// registry), `berth server`, and `berth agent` over containerd's socket
// that joins with a bootstrap token (TLS bootstrap, CSR auto-approved).
// Everything lives in one temporary directory and, for pods' cgroups, one
// cgroup tree below the test's own cgroup; the test process is in network
// and mount namespaces of its own (agent_containerd_main.cc).
//
// Lifecycle: Start -> (Kubectl, Get, cri()) ... -> Shutdown.

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "common/error.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/client/api_client.h"
#include "integration/containerd/containerd_daemon.h"
#include "integration/priv/harness/host.h"
#include "runtime/image/registry/tests/registry_process.h"

namespace berth::integration {

inline constexpr char kKubectl[] = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
inline constexpr char kNodeName[] = "node-c";

// What the stack needs on the host; "" when all is there, else what is
// missing (for a failure message).
std::string MissingPrerequisites();

class NodeStack {
 public:
  // Starts everything and waits until the node is Ready and the default
  // namespace has its service account (pods are admitted only then).
  static Result<std::unique_ptr<NodeStack>> Start();
  ~NodeStack();  // Shutdown(), ignoring its errors
  NodeStack(const NodeStack&) = delete;
  NodeStack& operator=(const NodeStack&) = delete;

  // Stops the agent (SIGTERM: pods keep running, as kubelet leaves them),
  // removes every sandbox through containerd's CRI, stops containerd and
  // kills its shims, stops the server and the registry, unmounts
  // everything below the temporary dir. Idempotent; the first error.
  Status Shutdown();

  // kubectl 1.33 with the admin kubeconfig, 60 s limit.
  Result<CommandResult> Kubectl(const std::vector<std::string>& args,
                                const std::string& stdin_data = "");
  // GET with the admin identity; null unless 200.
  boost::json::value Get(const std::string& path);
  controlplane::client::ApiClient& api() { return *admin_; }
  // A CRI client of our own on containerd's socket (not the agent's).
  agent::CriClient& cri() { return *cri_; }

  const std::string& image() const { return image_; }  // 127.0.0.1:<port>/test/busybox:latest
  const std::string& dir() const { return dir_.path(); }
  std::string pod_logs_dir() const { return dir_ / "logs"; }
  std::string agent_root() const { return dir_ / "agent"; }
  std::string agent_kubeconfig() const { return dir_ / "kubelet.kubeconfig"; }
  std::string cgroup_root() const { return cgroups_.name(); }
  pid_t agent_pid() const { return agent_.get(); }
  // The tails of the agent's, the server's and containerd's logs.
  std::string Logs() const;

 private:
  NodeStack() = default;
  Status StartAll();
  Status BuildAndPushImages();
  Status StartContainerd();
  Status StartServer();
  Status StartAgent();
  Status WaitNodeReady(std::chrono::seconds timeout);
  Status RemoveSandboxes();

  testing::TempDir dir_{"berth-agent-ctrd"};
  priv::CgroupTree cgroups_;
  std::unique_ptr<image::registry::testing::RegistryProcess> registry_;
  std::unique_ptr<Containerd> containerd_;
  std::unique_ptr<agent::CriClient> cri_;
  ChildGuard server_;
  ChildGuard agent_;
  std::unique_ptr<controlplane::client::ApiClient> admin_;
  std::string image_;
  std::string pause_image_;
  uint16_t api_port_ = 0;
  bool shut_down_ = false;
};

// Polls `done` every 100 ms until it holds or `timeout` passes.
bool Eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done);

}  // namespace berth::integration
