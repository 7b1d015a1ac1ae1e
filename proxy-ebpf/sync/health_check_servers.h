#pragma once
// kube-proxy's service health checks: for each Service with
// externalTrafficPolicy Local and a healthCheckNodePort, an HTTP server on
// that port answering 200 while this node has ready local endpoints and
// 503 otherwise, so that an external load balancer only sends to nodes
// that will not refuse. The body is kube-proxy's JSON.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "proxy-ebpf/model/frontends.h"
#include "proxy-ebpf/sync/http_endpoint.h"

namespace berth::proxy {

// The answer for one health check (what the server on its port returns).
HttpAnswer HealthCheckAnswer(const HealthCheck& check);

class HealthCheckServers {
 public:
  // Servers listen on `address` ("0.0.0.0": every IPv4 address).
  explicit HealthCheckServers(std::string address) : address_(std::move(address)) {}

  // Opens a server for each new port, closes those no longer listed and
  // updates the answers. A port that cannot be bound (another process
  // holds it) is logged once and tried again by RetryUnbound.
  void Update(const std::vector<HealthCheck>& checks);
  // Binds the ports the last Update could not; nothing when all are bound.
  void RetryUnbound();

 private:
  struct Server {
    std::shared_ptr<std::mutex> mu;
    std::shared_ptr<HealthCheck> check;  // guarded by *mu; read by the server thread
    std::unique_ptr<HttpEndpoint> endpoint;
  };

  std::string address_;
  std::map<uint16_t, Server> servers_;  // by healthCheckNodePort
  std::vector<HealthCheck> checks_;     // as last given to Update
  std::set<uint16_t> unbound_;          // wanted ports without a server (logged)
};

}  // namespace berth::proxy
