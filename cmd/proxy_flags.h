#pragma once
// The flags of berth's service proxy, shared by `berth proxy` and the
// embedded proxy of `berth up` / `berth agent --proxy`, and starting it;
// for the embedded one, the cgroups it attaches to by default: the pods'
// kubepods cgroup as berth's runtime places them, and berth-host next to
// it for node processes.

#include <memory>
#include <string>

#include "cmd/flags.h"
#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "proxy-ebpf/sync/http_endpoint.h"
#include "proxy-ebpf/sync/proxy_service.h"

namespace berth::cli {

struct ProxyOptions {
  std::string pin_dir;      // "" = /sys/fs/bpf/berth/<node>
  std::string cgroup_root;  // "" = <cgroup2 mount>/kubepods
  std::string host_cgroup;  // "" = none
  std::string selection = "random";
  int maglev_table_size = 1021;
  int max_services = 65536;
  int max_backends = 262144;
  std::vector<std::string> nodeport_addresses;
  std::vector<std::string> nodeport_interfaces;  // TC programs for traffic from outside
  std::string metrics_bind_address = "127.0.0.1:10249";
};

void AddProxyFlags(FlagSet& flags, ProxyOptions& o);

// A running proxy: the service and its metrics endpoint.
struct RunningProxy {
  std::unique_ptr<proxy::ProxyService> service;
  std::unique_ptr<proxy::HttpEndpoint> metrics;
  void Stop();
};

// Validates `o` (errors name the flag) and starts the proxy for `node`.
Result<RunningProxy> StartProxy(const ProxyOptions& o, const std::string& node,
                                controlplane::client::ClientConfig api);

// `flag` (--bpf-pin-dir) when set, else the default pin directory of
// `node`'s dataplane.
std::string PinDir(const std::string& flag, const std::string& node);
// The same for this host's node: `hostname_override` or the host name, as
// the agent names its Node.
Result<std::string> PinDirOfThisNode(const std::string& flag, const std::string& hostname_override);

// The cgroup berth makes for node processes that should reach Services:
// a sibling of kubepods (a process joins by writing its pid to
// <dir>/cgroup.procs).
inline constexpr char kHostCgroupName[] = "berth-host";

// Where the runtime puts the pods, in the cgroup v2 hierarchy.
struct NodeCgroups {
  std::string pods;  // <cgroup2 mount>/<berth root>/<cgroupRoot>/kubepods
  std::string host;  // its sibling berth-host
};
// `berth_root`: the runtime's --cgroup-root ("" = this process's cgroup),
// as cgroups::ResolveOptions; `kubelet_cgroup_root`: KubeletConfiguration
// cgroupRoot. Fails when no cgroup2 hierarchy is mounted.
Result<NodeCgroups> ResolveNodeCgroups(const std::string& berth_root,
                                       const std::string& kubelet_cgroup_root);

// The embedded proxy: --proxy-cgroup-root and --proxy-host-cgroup default
// to `where`; berth's own directories among them (every default, never one
// the user named) are created when missing.
Result<RunningProxy> StartNodeProxy(ProxyOptions o, const std::string& node,
                                    controlplane::client::ClientConfig api,
                                    const NodeCgroups& where);

}  // namespace berth::cli
