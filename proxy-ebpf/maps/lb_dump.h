#pragma once
// What the pinned maps of a node hold, read the way any other process (or
// bpftool) can: for `berth proxy status` and the Prometheus metrics. Needs
// no running proxy.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "proxy-ebpf/maps/lb_map_fds.h"
#include "proxy-ebpf/model/frontend.h"

namespace berth::proxy {

struct FrontendStatus {
  FrontendKey key;
  std::string name;  // "namespace/name:port"
  std::string kind;  // "ClusterIP", ...
  uint32_t id = 0;
  uint32_t flags = 0;
  std::vector<Backend> backends;
  uint64_t connections = 0;  // summed over CPUs
  uint64_t refused = 0;
};

// Reads every frontend from the maps behind `fds`.
Result<std::vector<FrontendStatus>> DumpFrontends(const LbMapFds& fds);

// The maps pinned in `pin_dir`, opened read-only; close with CloseMaps.
Result<LbMapFds> OpenPinnedMaps(const std::string& pin_dir);
void CloseMaps(LbMapFds& fds);

// A table for people, sorted by name.
std::string FormatStatus(const std::vector<FrontendStatus>& frontends);
// The Prometheus text exposition format (version 0.0.4).
std::string PrometheusText(const std::vector<FrontendStatus>& frontends);

}  // namespace berth::proxy
