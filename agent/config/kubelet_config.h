#pragma once
// KubeletConfiguration (kubelet.config.k8s.io/v1beta1), the --config file:
// the fields berth's agent applies, with upstream's defaults. Fields
// upstream knows that berth does not apply, and fields nobody knows, are
// warnings rather than errors (as kubelet's lenient decoding); a bad value
// is an error naming the file and the field.

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/eviction.h"
#include "common/error.h"

namespace berth::agent {

struct KubeletAuthentication {
  std::string x509_client_ca_file;  // x509.clientCAFile
  bool webhook_enabled = true;      // webhook.enabled: TokenReview for bearer tokens
  std::chrono::milliseconds webhook_cache_ttl = std::chrono::minutes(2);
  bool anonymous_enabled = false;  // anonymous.enabled
};

struct KubeletAuthorization {
  std::string mode = "Webhook";  // "Webhook" (SubjectAccessReview) or "AlwaysAllow"
  std::chrono::milliseconds webhook_cache_authorized_ttl = std::chrono::minutes(5);
  std::chrono::milliseconds webhook_cache_unauthorized_ttl = std::chrono::seconds(30);
};

struct KubeletConfig {
  std::string address = "0.0.0.0";  // the kubelet API's bind address
  uint16_t port = 10250;
  std::vector<std::string> cluster_dns;  // nameserver IPs for pods with ClusterFirst DNS
  std::string cluster_domain;            // "cluster.local"
  int max_pods = 110;
  std::string pod_cidr;
  std::string cgroup_root;  // "" = the root cgroup
  std::string cgroup_driver = "cgroupfs";
  std::string static_pod_path;
  std::chrono::milliseconds sync_frequency = std::chrono::minutes(1);
  std::chrono::milliseconds node_status_update_frequency = std::chrono::seconds(10);
  std::chrono::milliseconds node_status_report_frequency = std::chrono::minutes(5);
  int node_lease_duration_seconds = 40;
  int node_status_max_images = 50;  // -1: no cap
  // Resource name ("cpu", "memory", "ephemeral-storage", "pid") -> quantity
  // text, validated.
  std::map<std::string, std::string> system_reserved;
  std::map<std::string, std::string> kube_reserved;
  std::vector<EvictionThreshold> eviction_hard = DefaultEvictionHard();
  std::chrono::milliseconds eviction_pressure_transition_period = std::chrono::minutes(5);
  bool serialize_image_pulls = true;
  std::optional<int> max_parallel_image_pulls;
  KubeletAuthentication authentication;
  KubeletAuthorization authorization;
  std::string tls_cert_file;
  std::string tls_private_key_file;
  boost::json::array register_with_taints;  // core/v1 Taints
  bool register_node = true;
  int kube_api_qps = 50;
  int kube_api_burst = 100;
  std::chrono::milliseconds runtime_request_timeout = std::chrono::minutes(2);
  std::string container_runtime_endpoint;  // "" unless the file sets it
  std::string pod_logs_dir = "/var/log/pods";
  std::string resolv_conf = "/etc/resolv.conf";
};

struct LoadedKubeletConfig {
  KubeletConfig config;
  std::vector<std::string> warnings;  // "<file>: unknown field \"x\"", ...
};

// Reads a YAML or JSON file of kind KubeletConfiguration. Relative paths
// in it (staticPodPath, tlsCertFile, tlsPrivateKeyFile,
// authentication.x509.clientCAFile, resolvConf) resolve against the
// file's directory, as upstream's file loader does.
Result<LoadedKubeletConfig> LoadKubeletConfig(const std::string& path);
// The same from text; `path` names it in messages and anchors relative paths.
Result<LoadedKubeletConfig> ParseKubeletConfig(std::string_view text, const std::string& path);

}  // namespace berth::agent
