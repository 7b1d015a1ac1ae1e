#include "proxy-ebpf/maps/lb_maps.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <algorithm>
#include <cstring>

#include "proxy-ebpf/bpf/lb_layout.h"
#include "proxy-ebpf/maps/bpf_map.h"
#include "proxy-ebpf/maps/lb_codec.h"
#include "proxy-ebpf/maps/maglev.h"

namespace berth::proxy {

// One queue per map, flushed in the order that keeps lookups whole:
// backends, then slots/tables/names/stats, then service entries.
struct LbMaps::Batches {
  Batches(const LbMapFds& fds, uint32_t maglev_size, size_t stats_size)
      : backends4(fds.backends4, sizeof(__u32), sizeof(lb4_backend), "lb4_backends"),
        backends6(fds.backends6, sizeof(__u32), sizeof(lb6_backend), "lb6_backends"),
        slots(fds.slots, sizeof(lb_slot_key), sizeof(__u32), "lb_slots"),
        maglev(fds.maglev, sizeof(__u32), sizeof(__u32) * maglev_size, "lb_maglev"),
        names(fds.names, sizeof(__u32), sizeof(lb_service_name), "lb_names"),
        stats(fds.stats, sizeof(__u32), stats_size, "lb_stats"),
        services4(fds.services4, sizeof(lb4_service_key), sizeof(lb_service), "lb4_services"),
        services6(fds.services6, sizeof(lb6_service_key), sizeof(lb_service), "lb6_services") {}

  Status Flush() {
    for (MapBatch* phase :
         {&backends4, &backends6, &slots, &maglev, &names, &stats, &services4, &services6})
      if (Status ok = phase->Flush(); !ok.ok()) return ok;
    return {};
  }

  MapBatch backends4, backends6, slots, maglev, names, stats, services4, services6;
};

namespace {

uint32_t FlagsOf(const Frontend& frontend) {
  uint32_t flags = 0;
  if (frontend.affinity_timeout_seconds > 0) flags |= BERTH_LB_F_AFFINITY;
  if (frontend.local_policy) flags |= BERTH_LB_F_LOCAL;
  if (frontend.kind != FrontendKind::kClusterIp) flags |= BERTH_LB_F_NODEPORT;
  return flags;
}

std::string NameOf(const Frontend& frontend) {
  return frontend.port_name.empty() ? frontend.service
                                    : frontend.service + ":" + frontend.port_name;
}

uint8_t BackendFlags(const Backend& backend) {
  return static_cast<uint8_t>((backend.local ? BERTH_LB_BACKEND_F_LOCAL : 0) |
                              (backend.terminating ? BERTH_LB_BACKEND_F_TERMINATING : 0));
}

std::string Identity(const Backend& backend, L4Protocol protocol) {
  return backend.address.ToString() + ":" + std::to_string(backend.port) + "/" +
         std::string(L4Name(protocol));
}

}  // namespace

LbMaps::LbMaps(LbMapFds fds, LbLimits limits, Selection selection, uint32_t maglev_size)
    : fds_(fds),
      limits_(limits),
      selection_(selection),
      maglev_size_(maglev_size),
      possible_cpus_(std::max(1, libbpf_num_possible_cpus())),
      service_ids_(limits.max_services, "service"),
      backend_ids4_(limits.max_backends, "IPv4 backend"),
      backend_ids6_(limits.max_backends, "IPv6 backend") {}

std::optional<LbMaps::View> LbMaps::Installed(const FrontendKey& key) const {
  auto it = installed_.find(key);
  if (it == installed_.end()) return std::nullopt;
  return View{it->second.id, it->second.rev, it->second.backends};
}

Status LbMaps::Replace(const std::vector<Frontend>& all) {
  std::set<FrontendKey> wanted;
  for (const Frontend& frontend : all)
    wanted.insert(frontend.key);
  std::vector<FrontendKey> stale;
  for (const auto& [key, installed] : installed_)
    if (!wanted.count(key)) stale.push_back(key);
  return Apply(all, stale);
}

Status LbMaps::Apply(const std::vector<Frontend>& upserted,
                     const std::vector<FrontendKey>& removed) {
  Batches batches(fds_, maglev_size_, StatsValueSize(possible_cpus_));
  for (const Frontend& frontend : upserted)
    if (Status ok = Upsert(frontend, batches); !ok.ok()) return ok;
  for (const FrontendKey& key : removed)
    Remove(key, batches);
  return batches.Flush();
}

Result<uint32_t> LbMaps::AcquireBackend(const Backend& backend, L4Protocol protocol,
                                        Batches& batches) {
  BackendIdentity identity{backend.address, backend.port, protocol};
  uint8_t flags = BackendFlags(backend);
  auto [it, added] = backends_.try_emplace(identity);
  BackendEntry& entry = it->second;
  if (added) {
    IdAllocator& ids = backend.address.v6 ? backend_ids6_ : backend_ids4_;
    Result<uint32_t> id = ids.Allocate();
    if (!id.ok()) {
      backends_.erase(it);
      return id.error();
    }
    entry.id = *id;
  }
  if (added || entry.flags != flags) {
    entry.flags = flags;
    if (backend.address.v6) {
      lb6_backend value = EncodeBackend6(backend, protocol, flags);
      batches.backends6.Update(&entry.id, &value);
    } else {
      lb4_backend value = EncodeBackend4(backend, protocol, flags);
      batches.backends4.Update(&entry.id, &value);
    }
  }
  ++entry.refs;
  return entry.id;
}

Status LbMaps::Upsert(const Frontend& frontend, Batches& batches) {
  const FrontendKey& key = frontend.key;
  const uint32_t flags = FlagsOf(frontend);
  const std::string name = NameOf(frontend);
  const auto kind = static_cast<uint32_t>(frontend.kind);
  for (const Backend& backend : frontend.backends)
    if (backend.address.v6 != key.address.v6)
      return Error(Errc::kInvalidArgument, "frontend " + key.address.ToString() + " of " + name +
                                               " has backend " + backend.address.ToString() +
                                               " of the other IP family");

  auto existing = installed_.find(key);
  if (existing != installed_.end() && !existing->second.stale &&
      existing->second.backends == frontend.backends) {
    InstalledFrontend& installed = existing->second;
    if (installed.name != name || installed.kind != kind) {
      lb_service_name value = EncodeName(name, kind);
      batches.names.Update(&installed.id, &value);
      installed.name = name;
      installed.kind = kind;
    }
    if (installed.flags != flags ||
        installed.affinity_timeout != frontend.affinity_timeout_seconds) {
      installed.flags = flags;
      installed.affinity_timeout = frontend.affinity_timeout_seconds;
      lb_service value =
          EncodeService(installed.id, static_cast<uint32_t>(installed.backend_ids.size()),
                        installed.rev, flags, installed.affinity_timeout);
      if (key.address.v6) {
        lb6_service_key k = EncodeKey6(key);
        batches.services6.Update(&k, &value);
      } else {
        lb4_service_key k = EncodeKey4(key);
        batches.services4.Update(&k, &value);
      }
    }
    return {};
  }

  InstalledFrontend next;
  next.flags = flags;
  next.affinity_timeout = frontend.affinity_timeout_seconds;
  next.backends = frontend.backends;
  next.name = name;
  next.kind = kind;
  for (const Backend& backend : frontend.backends) {
    Result<uint32_t> id = AcquireBackend(backend, key.protocol, batches);
    if (!id.ok()) return std::move(id).error().Wrap("frontend " + name);
    next.backend_ids.push_back(*id);
  }

  if (existing == installed_.end()) {
    Result<uint32_t> id = service_ids_.Allocate();
    if (!id.ok()) return std::move(id).error().Wrap("frontend " + name);
    next.id = *id;
    next.rev = 1;
    std::vector<uint8_t> zero(StatsValueSize(possible_cpus_), 0);
    batches.stats.Update(&next.id, zero.data());
    lb_service_name value = EncodeName(name, kind);
    batches.names.Update(&next.id, &value);
  } else {
    const InstalledFrontend& old = existing->second;
    next.id = old.id;
    next.rev = old.rev + 1;
    if (old.name != name || old.kind != kind) {
      lb_service_name value = EncodeName(name, kind);
      batches.names.Update(&next.id, &value);
    }
  }

  if (selection_ == Selection::kMaglev) {
    if (!next.backend_ids.empty()) {
      std::vector<MaglevBackend> input;
      for (size_t i = 0; i < next.backends.size(); ++i)
        input.push_back({Identity(next.backends[i], key.protocol), next.backend_ids[i]});
      std::vector<uint32_t> table = MaglevTable(input, maglev_size_);
      batches.maglev.Update(&next.id, table.data());
    }
  } else {
    for (uint32_t slot = 0; slot < next.backend_ids.size(); ++slot) {
      lb_slot_key slot_key{next.id, next.rev, slot};
      batches.slots.Update(&slot_key, &next.backend_ids[slot]);
    }
  }

  lb_service value = EncodeService(next.id, static_cast<uint32_t>(next.backend_ids.size()),
                                   next.rev, flags, next.affinity_timeout);
  if (key.address.v6) {
    lb6_service_key k = EncodeKey6(key);
    batches.services6.Update(&k, &value);
  } else {
    lb4_service_key k = EncodeKey4(key);
    batches.services4.Update(&k, &value);
  }

  if (existing != installed_.end()) QueueGarbage(key, existing->second, /*release_id=*/false);
  installed_[key] = std::move(next);
  return {};
}

void LbMaps::Remove(const FrontendKey& key, Batches& batches) {
  auto it = installed_.find(key);
  if (it == installed_.end()) return;
  if (key.address.v6) {
    lb6_service_key k = EncodeKey6(key);
    batches.services6.Delete(&k);
  } else {
    lb4_service_key k = EncodeKey4(key);
    batches.services4.Delete(&k);
  }
  QueueGarbage(key, it->second, /*release_id=*/true);
  installed_.erase(it);
}

void LbMaps::QueueGarbage(const FrontendKey& key, const InstalledFrontend& old, bool release_id) {
  Garbage garbage;
  garbage.queued = std::chrono::steady_clock::now();
  garbage.service_id = old.id;
  garbage.rev = old.rev;
  garbage.slots = static_cast<uint32_t>(old.backend_ids.size());
  garbage.release_id = release_id;
  garbage.scrub_affinity = (old.flags & BERTH_LB_F_AFFINITY) != 0;
  for (const Backend& backend : old.backends) {
    BackendIdentity identity{backend.address, backend.port, key.protocol};
    --backends_[identity].refs;
    garbage.backends.push_back(identity);
  }
  garbage_.push_back(std::move(garbage));
}

Status LbMaps::Collect(std::chrono::milliseconds grace) {
  Batches batches(fds_, maglev_size_, StatsValueSize(possible_cpus_));
  std::set<uint32_t> scrub;
  std::vector<uint32_t> released;
  const auto now = std::chrono::steady_clock::now();
  while (!garbage_.empty() && garbage_.front().queued + grace <= now) {
    Garbage garbage = std::move(garbage_.front());
    garbage_.pop_front();
    if (selection_ == Selection::kRandom) {
      for (uint32_t slot = 0; slot < garbage.slots; ++slot) {
        lb_slot_key slot_key{garbage.service_id, garbage.rev, slot};
        batches.slots.Delete(&slot_key);
      }
    }
    if (garbage.release_id) {
      batches.maglev.Delete(&garbage.service_id);
      batches.names.Delete(&garbage.service_id);
      released.push_back(garbage.service_id);
    }
    for (const BackendIdentity& identity : garbage.backends) {
      auto it = backends_.find(identity);
      if (it == backends_.end() || it->second.refs > 0) continue;
      if (identity.address.v6) {
        batches.backends6.Delete(&it->second.id);
        backend_ids6_.Release(it->second.id);
      } else {
        batches.backends4.Delete(&it->second.id);
        backend_ids4_.Release(it->second.id);
      }
      backends_.erase(it);
    }
    if (garbage.scrub_affinity) scrub.insert(garbage.service_id);
  }
  // Services first (none point here any more), then what they pointed to.
  if (Status ok = batches.Flush(); !ok.ok()) return ok;
  for (uint32_t id : released)
    service_ids_.Release(id);
  return scrub.empty() ? Status{} : ScrubAffinity(scrub);
}

Status LbMaps::ScrubAffinity(const std::set<uint32_t>& service_ids) {
  // Which backend ids each scrubbed service still has (none when removed).
  std::map<uint32_t, std::set<uint32_t>> live;
  for (const auto& [key, installed] : installed_)
    if (service_ids.count(installed.id))
      live[installed.id].insert(installed.backend_ids.begin(), installed.backend_ids.end());

  Result<std::vector<std::vector<uint8_t>>> keys =
      MapKeys(fds_.affinity, sizeof(lb_affinity_key), "lb_affinity");
  if (!keys.ok()) return keys.error();
  MapBatch deletes(fds_.affinity, sizeof(lb_affinity_key), sizeof(lb_affinity_value),
                   "lb_affinity");
  for (const std::vector<uint8_t>& raw : *keys) {
    lb_affinity_key key{};
    std::memcpy(&key, raw.data(), sizeof(key));
    if (!service_ids.count(key.service_id)) continue;
    lb_affinity_value value{};
    Result<bool> found = MapLookup(fds_.affinity, &key, &value, "lb_affinity");
    if (!found.ok()) return found.error();
    if (*found && !live[key.service_id].count(value.backend_id)) deletes.Delete(&key);
  }
  return deletes.Flush();
}

}  // namespace berth::proxy
