#pragma once
// Writes frontends (model/frontend.h) into the load-balancing maps
// (bpf/lb_layout.h), incrementally and in an order no BPF lookup can
// observe half-done: backends first, then the new slot generation (or
// Maglev table), then the service entry in one update; what the old
// generation used is freed by Collect() once no program can still hold
// it. A restarted proxy Adopt()s what the pinned maps hold, so its first
// Replace() rewrites only what differs and no live service disappears.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "proxy-ebpf/maps/id_allocator.h"
#include "proxy-ebpf/maps/lb_map_fds.h"
#include "proxy-ebpf/model/frontend.h"

namespace berth::proxy {

class LbMaps {
 public:
  LbMaps(LbMapFds fds, LbLimits limits, Selection selection, uint32_t maglev_size);

  // Reads the maps' current content as the installed state.
  Status Adopt();
  // Makes the maps hold exactly `all` (one frontend per key).
  Status Replace(const std::vector<Frontend>& all);
  // Upserts `upserted`, then removes `removed`.
  Status Apply(const std::vector<Frontend>& upserted, const std::vector<FrontendKey>& removed);
  // Frees replaced slots, tables, ids and unreferenced backends queued at
  // least `grace` ago (a BPF program runs for microseconds; the grace is
  // what makes a freed slot unreachable by any lookup in flight).
  Status Collect(std::chrono::milliseconds grace = std::chrono::milliseconds(100));

  size_t frontends() const { return installed_.size(); }
  size_t backends() const { return backends_.size(); }
  // The installed state of `key`: its service id and backends (tests, status).
  struct View {
    uint32_t id = 0;
    uint32_t rev = 0;
    std::vector<Backend> backends;
  };
  std::optional<View> Installed(const FrontendKey& key) const;

 private:
  struct BackendIdentity {
    IpAddress address;
    uint16_t port = 0;
    L4Protocol protocol = L4Protocol::kTcp;
    auto operator<=>(const BackendIdentity&) const = default;
  };
  struct BackendEntry {
    uint32_t id = 0;
    uint32_t refs = 0;
    uint8_t flags = 0;
  };
  struct InstalledFrontend {
    uint32_t id = 0;
    uint32_t rev = 0;
    uint32_t flags = 0;
    uint32_t affinity_timeout = 0;
    std::vector<Backend> backends;
    std::vector<uint32_t> backend_ids;  // slot order
    std::string name;
    uint32_t kind = 0;
    // Adopted without a readable backend list: the maps hold something
    // other than `backends`, so the next Upsert rewrites it whatever the
    // desired list is.
    bool stale = false;
  };
  // What a replaced or removed generation leaves to free.
  struct Garbage {
    std::chrono::steady_clock::time_point queued;
    uint32_t service_id = 0;
    uint32_t rev = 0;
    uint32_t slots = 0;
    bool release_id = false;                // the frontend is gone: table, name, id
    std::vector<BackendIdentity> backends;  // refs dropped; delete those at 0
    bool scrub_affinity = false;
  };
  struct Batches;

  Status Upsert(const Frontend& frontend, Batches& batches);
  void Remove(const FrontendKey& key, Batches& batches);
  // Drops `old`'s backend refs and queues what it used for Collect.
  void QueueGarbage(const FrontendKey& key, const InstalledFrontend& old, bool release_id);
  Result<uint32_t> AcquireBackend(const Backend& backend, L4Protocol protocol, Batches& batches);
  Status ScrubAffinity(const std::set<uint32_t>& service_ids);
  Status DropUnreachable(const std::map<uint32_t, Backend>& backends4,
                         const std::map<uint32_t, Backend>& backends6);

  LbMapFds fds_;
  LbLimits limits_;
  Selection selection_;
  uint32_t maglev_size_;
  int possible_cpus_;
  IdAllocator service_ids_;
  IdAllocator backend_ids4_;
  IdAllocator backend_ids6_;
  std::map<FrontendKey, InstalledFrontend> installed_;
  std::map<BackendIdentity, BackendEntry> backends_;
  std::deque<Garbage> garbage_;
};

}  // namespace berth::proxy
