#pragma once
// The agent's settings the pod side reads (from KubeletConfiguration and
// flags; see agent/config).

#include <chrono>
#include <string>
#include <vector>

namespace berth::agent {

struct PodOptions {
  std::string node_name;
  std::string root_dir = "/var/lib/berth/kubelet";  // pods/<uid>/...
  std::string pod_logs_dir = "/var/log/pods";
  std::vector<std::string> cluster_dns;
  std::string cluster_domain = "cluster.local";
  std::string resolv_conf = "/etc/resolv.conf";  // DNS policy Default
  // Pods' cgroups go under <cgroup_root>/kubepods (cgroupfs driver,
  // relative to the runtime's cgroup root).
  std::string cgroup_root = "/";
  bool serialize_image_pulls = true;
  std::chrono::seconds sync_frequency{60};
  // A pod worker's thread goes after this long with nothing to do (an idle
  // pod holds no thread); the next update, event or timer starts another.
  std::chrono::milliseconds worker_idle{1000};
  // CrashLoopBackOff and image pull backoff: 10 s doubling to 5 min.
  std::chrono::milliseconds backoff_initial{10'000};
  std::chrono::milliseconds backoff_max{300'000};
  int max_pods = 110;
  std::string static_pod_path;  // "" = no static pods
};

}  // namespace berth::agent
