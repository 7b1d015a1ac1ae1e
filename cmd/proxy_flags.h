#pragma once
// The flags of berth's service proxy, shared by `berth proxy` and the
// embedded proxy of `berth up` / `berth agent --proxy`, and starting it.

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

}  // namespace berth::cli
