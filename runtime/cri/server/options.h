#pragma once
// `berth cri`'s configuration, with the flag names kubelet and containerd
// users know (see cmd/cri.cc).

#include <string>
#include <vector>

namespace berth::cri {

struct CriOptions {
  std::string listen = "unix:///run/berth/cri.sock";
  std::string root = "/var/lib/berth";  // images/, cri/
  std::string run_root = "/run/berth";  // runc/, shims/, netns/
  std::string cni_conf_dir = "/etc/cni/net.d";
  std::vector<std::string> cni_bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
  std::string cni_cache_dir;  // "" = <root>/cni/results
  std::string registry_config_dir = "/etc/berth/certs.d";
  std::string cgroup_root;  // "" = the cgroup berth runs in
  std::string stream_address = "127.0.0.1:0";
  std::string shim_binary;   // "" = berth-shim next to the berth binary
  std::string pause_binary;  // "" = berth-pause next to the berth binary
  int oom_score_adj = -998;  // the sandbox's pause, as kubelet asks containerd
};

}  // namespace berth::cri
