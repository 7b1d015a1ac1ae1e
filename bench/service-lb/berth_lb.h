#pragma once
// berth's side: the socket-LB dataplane (proxy-ebpf/loader) attached to
// the bench cgroup, its maps written through LbMaps, as the proxy does.

#include <memory>
#include <string>

#include "bench/service-lb/service_set.h"
#include "common/error.h"
#include "proxy-ebpf/loader/dataplane.h"
#include "proxy-ebpf/maps/lb_maps.h"

namespace berth::bench {

class BerthLb {
 public:
  // Loads and attaches a fresh dataplane pinned under `pin_dir`.
  static Result<std::unique_ptr<BerthLb>> Open(const std::string& pin_dir,
                                               const std::string& cgroup);
  ~BerthLb();  // detaches and unpins everything
  BerthLb(const BerthLb&) = delete;
  BerthLb& operator=(const BerthLb&) = delete;

  // Full sync from empty maps (LbMaps::Replace); milliseconds.
  Result<double> Program(const ServiceSet& set);
  // One endpoint of set.services[set.changed] replaced (LbMaps::Apply);
  // milliseconds. `set` is updated.
  Result<double> Change(ServiceSet& set);

 private:
  BerthLb() = default;

  std::string pin_dir_;
  std::unique_ptr<proxy::Dataplane> dataplane_;
  std::unique_ptr<proxy::LbMaps> maps_;
};

}  // namespace berth::bench
