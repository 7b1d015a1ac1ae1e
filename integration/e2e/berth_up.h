#pragma once
// `berth up` as a child of the test, with every directory it writes in the
// test's temporary dir: the data dir (with the demo image imported by
// examples/build-demo-image), the run root (on a tmpfs of its own, as /run
// is), the pods' logs, the proxy's pins (on a bpffs of its own). The test
// process runs in network and mount namespaces of its own (e2e_main.cc),
// so the bridge, veths, netns and mounts never reach the host's. On a host
// (not the vm tier's disposable guest) berth's cgroup root is one of this
// run's own, berth-test-<dir name> below the test's cgroup, so the pods'
// cgroups and the cgroups the proxy attaches to are this run's alone.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cgroups/cgroups.h"
#include "common/error.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "controlplane/client/api_client.h"

namespace berth::e2e {

inline constexpr char kKubectl133[] = "1.33";
inline constexpr char kKubectl127[] = "1.27";

// /usr/lib/google-cloud-sdk/bin/kubectl.<version>, or the same name under
// $BERTH_KUBECTL_DIR.
std::string KubectlPath(const std::string& version);

struct KubectlCall {
  std::string version = kKubectl133;
  std::string stdin_data;
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
};

class BerthUp {
 public:
  // A fresh temporary dir, the demo image built into it, `berth up`
  // started and the node Ready.
  static Result<std::unique_ptr<BerthUp>> Start();
  // Stops `berth up` and resets (best effort; Shutdown reports).
  ~BerthUp();

  // SIGKILL, as a crash: pods, shims and mounts stay.
  void Kill9();
  // A new `berth up` with the same flags; back when the apiserver and the
  // kubelet API answer again.
  Status Restart();
  // SIGTERM, then `berth reset` with the same dirs, then a check that none
  // of our processes and mounts are left.
  Status Shutdown();

  Result<CommandResult> Kubectl(const std::vector<std::string>& args,
                                const KubectlCall& call = {}) const;
  // argv for kubectl with our kubeconfig and cache dir, for callers that
  // run it themselves (in a pty, in the background).
  std::vector<std::string> KubectlArgv(const std::string& version,
                                       const std::vector<std::string>& args) const;

  controlplane::client::ApiClient& api() { return *api_; }
  // The agent's CRI socket (berth up serves its runtime there too).
  std::string cri_socket() const { return run_root() + "/cri.sock"; }

  const std::string& dir() const { return dir_.path(); }
  std::string data_dir() const { return dir_ / "data"; }
  std::string run_root() const { return dir_ / "run"; }
  std::string logs_dir() const { return dir_ / "logs"; }
  std::string kubeconfig() const { return data_dir() + "/server/admin.kubeconfig"; }
  std::string pin_dir() const { return dir_ / "bpffs/" + node_name_; }
  // berth up's --cgroup-root ("" = its own cgroup, in the vm guest).
  const std::string& cgroup_root() const { return cgroup_root_; }
  // The proxy's cgroup v2 directories: where the pods are (kubepods) and
  // berth-host, for node processes that reach Services.
  Result<std::string> PodsCgroup() const;
  Result<std::string> HostCgroup() const;
  // <data-dir>/agent/pods/<uid>/volumes/<plugin>/<name>
  std::string VolumeDir(const std::string& pod_uid, const std::string& plugin,
                        const std::string& name) const;
  const std::string& node_name() const { return node_name_; }
  uint16_t api_port() const { return api_port_; }
  uint16_t kubelet_port() const { return kubelet_port_; }
  pid_t pid() const { return child_.get(); }
  // When the first `berth up` was started.
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  std::string Log() const;

  // Processes whose command line names our temporary dir (berth up, its
  // shims), and mounts at or under it.
  std::vector<std::string> OurProcesses() const;
  std::vector<std::string> OurMounts() const;

 private:
  BerthUp();
  Status Prepare();
  Status Spawn();
  Status WaitServing(std::chrono::seconds timeout);
  Status WaitNodeReady(std::chrono::seconds timeout);
  Status StopChild();
  Result<cgroups::Placement> KubepodsPlacement() const;
  // What Shutdown finds left of the proxy and berth's cgroups.
  std::vector<std::string> LeftCgroupsAndPins() const;

  testing::TempDir dir_;
  std::string node_name_ = "berth-e2e";
  std::string cgroup_root_;
  bool bpffs_mounted_ = false;
  uint16_t api_port_ = 0;
  uint16_t kubelet_port_ = 0;
  ChildGuard child_;
  std::unique_ptr<controlplane::client::ApiClient> api_;
  std::chrono::steady_clock::time_point started_at_;
  bool shut_down_ = false;
};

}  // namespace berth::e2e
