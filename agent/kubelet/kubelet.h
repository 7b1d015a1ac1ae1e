#pragma once
// `berth agent` assembled: the API client (kubeconfig or TLS bootstrap),
// the CRI (berth's runtime in-process, or a socket), the node (registration,
// status, Lease), volumes, probes, the pod manager and the kubelet API.
// `berth up` runs the same next to the control plane.

#include <memory>
#include <string>
#include <vector>

#include "agent/config/kubelet_config.h"
#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "runtime/cri/server/options.h"

namespace berth::agent {

struct AgentOptions {
  std::string kubeconfig;            // --kubeconfig
  std::string bootstrap_kubeconfig;  // --bootstrap-kubeconfig
  // Set by `berth up`: the credentials to use, skipping kubeconfig files.
  std::optional<controlplane::client::ClientConfig> client;
  // "" = berth's own runtime in this process (with `runtime` options);
  // else a CRI socket such as unix:///run/containerd/containerd.sock.
  std::string container_runtime_endpoint;
  cri::CriOptions runtime;
  std::string root_dir = "/var/lib/berth/kubelet";
  std::string hostname_override;
  std::vector<std::string> node_ips;
  std::map<std::string, std::string> node_labels;
  boost::json::array register_with_taints;
  KubeletConfig config;
};

class Kubelet {
 public:
  static Result<std::unique_ptr<Kubelet>> Start(AgentOptions options);
  ~Kubelet();  // Stop()
  Kubelet(const Kubelet&) = delete;
  Kubelet& operator=(const Kubelet&) = delete;

  // Stops the agent; pods keep running (kubelet leaves them too).
  void Stop();
  const std::string& node_name() const;
  uint16_t kubelet_port() const;

  struct Parts;

 private:
  explicit Kubelet(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace berth::agent
