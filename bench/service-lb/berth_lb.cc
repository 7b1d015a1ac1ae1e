// Programming the synthetic services into berth's maps (berth_lb.h).
#include "bench/service-lb/berth_lb.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace berth::bench {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Addresses come from MakeServiceSet: malformed ones are a bench bug.
proxy::IpAddress Ip(const std::string& text) {
  auto ip = proxy::IpAddress::Parse(text);
  if (!ip.ok()) {
    std::fprintf(stderr, "bad address %s\n", text.c_str());
    std::abort();
  }
  return *ip;
}

proxy::Frontend ToFrontend(const Service& service) {
  proxy::Frontend f;
  f.key = proxy::FrontendKey{Ip(service.vip), service.port, proxy::L4Protocol::kTcp,
                             proxy::Scope::kInternal};
  f.kind = proxy::FrontendKind::kClusterIp;
  f.service = service.name;
  f.port_name = "http";
  for (const Endpoint& ep : service.endpoints)
    f.backends.push_back(proxy::Backend{Ip(ep.ip), ep.port, false, false});
  std::sort(f.backends.begin(), f.backends.end());
  return f;
}

}  // namespace

Result<std::unique_ptr<BerthLb>> BerthLb::Open(const std::string& pin_dir,
                                               const std::string& cgroup) {
  std::unique_ptr<BerthLb> lb(new BerthLb());
  lb->pin_dir_ = pin_dir;
  proxy::DataplaneConfig config;
  config.pin_dir = pin_dir;
  config.cgroups = {cgroup};
  lb->dataplane_ = BERTH_TRY_CTX(proxy::Dataplane::Open(config), "open berth dataplane");
  lb->maps_ = std::make_unique<proxy::LbMaps>(lb->dataplane_->maps(), config.limits,
                                              config.selection, config.maglev_size);
  return lb;
}

BerthLb::~BerthLb() {
  maps_.reset();
  dataplane_.reset();
  if (pin_dir_.empty()) return;
  if (Status removed = proxy::Dataplane::Remove(pin_dir_); !removed.ok())
    std::fprintf(stderr, "warning: remove dataplane: %s\n", removed.error().str().c_str());
}

Result<double> BerthLb::Program(const ServiceSet& set) {
  std::vector<proxy::Frontend> all;
  all.reserve(set.services.size());
  for (const Service& s : set.services)
    all.push_back(ToFrontend(s));
  auto start = Clock::now();
  BERTH_TRY_CTX(maps_->Replace(all), "LbMaps::Replace");
  return MillisSince(start);
}

Result<double> BerthLb::Change(ServiceSet& set) {
  Service& service = set.services[set.changed];
  service = WithChangedEndpoint(service);
  proxy::Frontend changed = ToFrontend(service);
  auto start = Clock::now();
  BERTH_TRY_CTX(maps_->Apply({changed}, {}), "LbMaps::Apply");
  double ms = MillisSince(start);
  BERTH_TRY_CTX(maps_->Collect(std::chrono::milliseconds(0)), "LbMaps::Collect");
  return ms;
}

}  // namespace berth::bench
