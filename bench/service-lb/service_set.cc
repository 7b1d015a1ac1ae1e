// Addresses of the synthetic services (service_set.h).
#include "bench/service-lb/service_set.h"

namespace berth::bench {
namespace {

std::string Ipv4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
         std::to_string(d);
}

// Fake endpoint `n`: 10.244.0.0/16 holds 65,536 addresses, 100,000
// endpoints need more, so the port moves on past each wrap.
Endpoint FakeEndpoint(uint32_t n) {
  return Endpoint{Ipv4(10, 244, (n >> 8) & 0xff, n & 0xff),
                  static_cast<uint16_t>(kTargetPort + (n >> 16))};
}

}  // namespace

std::vector<Endpoint> RealEndpoints() {
  std::vector<Endpoint> out;
  for (uint32_t i = 0; i < kEndpointsPerService; ++i)
    out.push_back(Endpoint{Ipv4(10, 245, 0, 11 + i), kTargetPort});
  return out;
}

size_t ServiceSet::endpoints() const {
  size_t n = 0;
  for (const Service& s : services)
    n += s.endpoints.size();
  return n;
}

ServiceSet MakeServiceSet(size_t count) {
  ServiceSet set;
  set.measured = count / 2;
  set.changed = set.measured == 0 ? 1 : 0;
  set.services.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    auto vip_index = static_cast<uint32_t>(i + 1);  // 10.96.0.0 is the network
    Service s;
    s.name = "bench/svc-" + std::to_string(i);
    s.vip = Ipv4(10, 96, vip_index >> 8, vip_index & 0xff);
    if (i == set.measured) {
      s.endpoints = RealEndpoints();
    } else {
      for (uint32_t j = 0; j < kEndpointsPerService; ++j)
        s.endpoints.push_back(FakeEndpoint(static_cast<uint32_t>(i) * kEndpointsPerService + j));
    }
    set.services.push_back(std::move(s));
  }
  return set;
}

Service WithChangedEndpoint(const Service& service) {
  Service out = service;
  // Outside every address MakeServiceSet hands out; toggles so that two
  // changes in a row differ.
  Endpoint fresh{"10.243.0.1", kTargetPort};
  if (out.endpoints.back() == fresh) fresh.ip = "10.243.0.2";
  out.endpoints.back() = fresh;
  return out;
}

}  // namespace berth::bench
