#pragma once
// The flags of `berth agent`, shared with `berth up`: kubelet's names
// (--kubeconfig, --config, --container-runtime-endpoint, --root-dir,
// --hostname-override, --node-ip, --node-labels, --register-with-taints,
// ...) plus the runtime's for berth's own in-process runtime.

#include <string>

#include "agent/kubelet/kubelet.h"
#include "cmd/flags.h"

namespace berth::cli {

struct AgentFlags {
  std::string config_file;
  std::string node_labels;  // k=v,k2=v2
  std::string taints;       // key=value:Effect,...
  std::string node_ip;      // comma separated
  std::string cni_bin_dir;  // ':' separated
  std::string cluster_dns;  // comma separated
  std::string cluster_domain;
  std::string pod_logs_dir;
  std::string pod_manifest_path;
  int port = -1;
  int max_pods = -1;
  std::string authorization_mode;
  std::string client_ca_file;
  bool anonymous_auth = false;
  bool anonymous_auth_set = false;
};

// `up`: the flags that make sense inside `berth up` only (no kubeconfig,
// no runtime endpoint).
void AddAgentFlags(FlagSet& flags, agent::AgentOptions& options, AgentFlags& values, bool up);
// Reads --config, then lets flags override it (as kubelet does); config
// warnings go to the log. Errors name the flag or file.
Status FinishAgentOptions(agent::AgentOptions& options, const AgentFlags& values);

}  // namespace berth::cli
