#pragma once
// `berth proxy` as a library: Services and EndpointSlices watched from any
// apiserver (two informers, as an ordinary client), turned into frontend
// deltas (model/), written into the dataplane (maps/, loader/). On start
// it adopts what the pinned maps hold, waits for both informers to list,
// then replaces everything in one pass (no live service ever missing);
// after that only what each event changed is written.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "proxy-ebpf/loader/dataplane.h"
#include "proxy-ebpf/maps/lb_maps.h"
#include "proxy-ebpf/model/service_tracker.h"
#include "proxy-ebpf/sync/health_check_servers.h"

namespace berth::proxy {

struct ProxyConfig {
  std::string node_name;
  // Where NodePorts are served; empty: every non-loopback, non-link-local
  // address of the node's interfaces.
  std::vector<IpAddress> nodeport_addresses;
  // Where the healthCheckNodePort servers listen.
  std::string health_check_address = "0.0.0.0";
  // snat_ipv4/6 zero: the first NodePort address of the family.
  DataplaneConfig dataplane;
};

// Non-loopback, non-link-local addresses of this netns's interfaces.
Result<std::vector<IpAddress>> InterfaceAddresses();

class ProxyService {
 public:
  static Result<std::unique_ptr<ProxyService>> Start(controlplane::client::ClientConfig api,
                                                     ProxyConfig config);
  ~ProxyService();  // Stop()
  ProxyService(const ProxyService&) = delete;
  ProxyService& operator=(const ProxyService&) = delete;

  // Stops watching and writing. The dataplane stays pinned and working.
  void Stop();
  // True once the first full sync is in the maps.
  bool Synced() const;
  // Frontends installed now.
  size_t Frontends() const;

 private:
  ProxyService(controlplane::client::ClientConfig api, ProxyConfig config, NodeInfo node);
  void Run();
  // Called from the informers' threads.
  void Changed();

  ProxyConfig config_;
  controlplane::client::ApiClient api_;
  std::unique_ptr<Dataplane> dataplane_;
  std::unique_ptr<LbMaps> maps_;
  std::unique_ptr<HealthCheckServers> health_checks_;  // used by Run only

  mutable std::mutex mu_;
  std::condition_variable wake_;
  ServiceTracker tracker_;
  bool dirty_ = false;
  bool stopping_ = false;
  bool synced_ = false;
  std::atomic<size_t> frontends_{0};  // written by Run, read by Frontends()

  std::unique_ptr<controlplane::client::Informer> services_;
  std::unique_ptr<controlplane::client::Informer> slices_;
  std::thread thread_;
};

}  // namespace berth::proxy
