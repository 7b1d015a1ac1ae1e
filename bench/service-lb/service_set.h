#pragma once
// The synthetic cluster the service-lb bench programs into both dataplanes:
// N ClusterIP services (10.96.0.0/16, port 80/TCP), 10 endpoints each.
// Only the measured service's endpoints are real (the backend netns);
// every other endpoint is a fake address in 10.244.0.0/16.

#include <cstdint>
#include <string>
#include <vector>

namespace berth::bench {

struct Endpoint {
  std::string ip;
  uint16_t port = 0;
  std::string str() const { return ip + ":" + std::to_string(port); }
  bool operator==(const Endpoint&) const = default;
};

struct Service {
  std::string name;  // "bench/svc-<i>"
  std::string vip;
  uint16_t port = 80;
  std::vector<Endpoint> endpoints;
};

inline constexpr int kEndpointsPerService = 10;
inline constexpr uint16_t kTargetPort = 8080;

// The real backends: 10.245.0.11 .. 10.245.0.20, port 8080.
std::vector<Endpoint> RealEndpoints();

struct ServiceSet {
  std::vector<Service> services;
  size_t measured = 0;  // index of the service with real endpoints (the middle one)
  size_t changed = 0;   // index of the service whose endpoint the change replaces

  size_t endpoints() const;
};

// `count` >= 2 services.
ServiceSet MakeServiceSet(size_t count);

// `service` with its last endpoint replaced by a fresh fake address.
Service WithChangedEndpoint(const Service& service);

}  // namespace berth::bench
