#include "cmd/agent_flags.h"

#include "cmd/self_path.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"

namespace berth::cli {

namespace {

Result<std::map<std::string, std::string>> ParseLabels(const std::string& text) {
  std::map<std::string, std::string> out;
  for (const std::string& item : SplitNonEmpty(text, ',')) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(Errc::kInvalidArgument, "--node-labels: \"" + item + "\" is not key=value");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

// key[=value]:Effect, as kubelet's --register-with-taints.
Result<boost::json::array> ParseTaints(const std::string& text) {
  boost::json::array out;
  for (const std::string& item : SplitNonEmpty(text, ',')) {
    size_t colon = item.rfind(':');
    std::string effect = colon == std::string::npos ? "" : item.substr(colon + 1);
    if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
      return Error(Errc::kInvalidArgument,
                   "--register-with-taints: \"" + item +
                       "\" is not key[=value]:Effect (NoSchedule, PreferNoSchedule, NoExecute)");
    }
    std::string kv = item.substr(0, colon);
    size_t eq = kv.find('=');
    boost::json::object taint{{"key", kv.substr(0, eq)}, {"effect", effect}};
    if (eq != std::string::npos) taint["value"] = kv.substr(eq + 1);
    out.push_back(std::move(taint));
  }
  return out;
}

}  // namespace

void AddAgentFlags(FlagSet& flags, agent::AgentOptions& o, AgentFlags& v, bool up) {
  if (!up) {
    flags.String("kubeconfig", &o.kubeconfig, "kubeconfig of the agent's identity");
    flags.String("bootstrap-kubeconfig", &o.bootstrap_kubeconfig,
                 "kubeconfig with a bootstrap token, for a client certificate (TLS bootstrap)");
    flags.String("container-runtime-endpoint", &o.container_runtime_endpoint,
                 "a CRI socket (unix://...); empty: berth's own runtime in this process");
    flags.String("root-dir", &o.root_dir, "the agent's state (pods, volumes, pki)");
    flags.String("hostname-override", &o.hostname_override, "the node's name");
    flags.String("runtime-root", &o.runtime.root, "berth runtime: state (images, containers)");
    flags.String("run-root", &o.runtime.run_root, "berth runtime: run state (shims, netns)");
    flags.String("cni-conf-dir", &o.runtime.cni_conf_dir, "berth runtime: CNI configurations");
    flags.String("registry-config-dir", &o.runtime.registry_config_dir,
                 "berth runtime: registry hosts.toml directory");
    flags.String("cri-listen", &o.runtime.listen,
                 "berth runtime: also serve CRI here (for crictl); empty: in-process only");
  }
  flags.String("config", &v.config_file, "a KubeletConfiguration file");
  flags.String("cni-bin-dir", &v.cni_bin_dir,
               "berth runtime: CNI plugin directories, ':' separated");
  flags.String("node-ip", &v.node_ip, "the node's addresses (comma separated)");
  flags.String("node-labels", &v.node_labels, "labels to register the node with (k=v,...)");
  flags.String("register-with-taints", &v.taints,
               "taints to register the node with (k=v:Effect,...)");
  flags.String("cluster-dns", &v.cluster_dns, "DNS server IPs for pods (comma separated)");
  flags.String("cluster-domain", &v.cluster_domain, "the cluster's DNS domain");
  flags.String("pod-logs-dir", &v.pod_logs_dir, "where container logs go (default /var/log/pods)");
  flags.String("pod-manifest-path", &v.pod_manifest_path,
               "a directory of static pod manifests (staticPodPath)");
  flags.Int("kubelet-port,port", &v.port, "the kubelet API's port (default 10250; 0 = any)");
  flags.Int("max-pods", &v.max_pods, "pods this node runs at most (default 110)");
  flags.String("authorization-mode", &v.authorization_mode, "Webhook or AlwaysAllow");
  flags.String("client-ca-file", &v.client_ca_file, "CA for kubelet API client certificates");
}

Status FinishAgentOptions(agent::AgentOptions& o, const AgentFlags& v) {
  if (!v.config_file.empty()) {
    agent::LoadedKubeletConfig loaded = BERTH_TRY(agent::LoadKubeletConfig(v.config_file));
    for (const std::string& w : loaded.warnings)
      BLOG(kWarn) << w;
    o.config = std::move(loaded.config);
    if (o.container_runtime_endpoint.empty())
      o.container_runtime_endpoint = o.config.container_runtime_endpoint;
  }
  if (!v.node_labels.empty()) o.node_labels = BERTH_TRY(ParseLabels(v.node_labels));
  if (!v.taints.empty()) o.register_with_taints = BERTH_TRY(ParseTaints(v.taints));
  if (!v.node_ip.empty()) o.node_ips = SplitNonEmpty(v.node_ip, ',');
  if (!v.cni_bin_dir.empty()) o.runtime.cni_bin_dirs = SplitNonEmpty(v.cni_bin_dir, ':');
  // berth-cni-bridge ships next to berth.
  std::string bridge_dir = Dirname(NextToSelf("berth-cni-bridge"));
  if (std::find(o.runtime.cni_bin_dirs.begin(), o.runtime.cni_bin_dirs.end(), bridge_dir) ==
      o.runtime.cni_bin_dirs.end()) {
    o.runtime.cni_bin_dirs.push_back(bridge_dir);
  }
  if (!v.cluster_dns.empty()) o.config.cluster_dns = SplitNonEmpty(v.cluster_dns, ',');
  if (!v.cluster_domain.empty()) o.config.cluster_domain = v.cluster_domain;
  if (!v.pod_logs_dir.empty()) o.config.pod_logs_dir = v.pod_logs_dir;
  if (!v.pod_manifest_path.empty()) o.config.static_pod_path = v.pod_manifest_path;
  if (v.port >= 0) {
    if (v.port > 65535) return Error(Errc::kInvalidArgument, "--port: not a port");
    o.config.port = static_cast<uint16_t>(v.port);
  }
  if (v.max_pods >= 0) o.config.max_pods = v.max_pods;
  if (!v.authorization_mode.empty()) {
    if (v.authorization_mode != "Webhook" && v.authorization_mode != "AlwaysAllow") {
      return Error(Errc::kInvalidArgument, "--authorization-mode: \"" + v.authorization_mode +
                                               "\" (Webhook or AlwaysAllow)");
    }
    o.config.authorization.mode = v.authorization_mode;
  }
  if (!v.client_ca_file.empty()) o.config.authentication.x509_client_ca_file = v.client_ca_file;
  if (o.runtime.shim_binary.empty()) o.runtime.shim_binary = NextToSelf("berth-shim");
  if (o.runtime.pause_binary.empty()) o.runtime.pause_binary = NextToSelf("berth-pause");
  return Ok();
}

}  // namespace berth::cli
