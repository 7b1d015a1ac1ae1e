// LbMaps::Adopt: the installed state rebuilt from what the pinned maps
// hold, after a restart. Whatever no service entry reaches any more (a
// previous process died between its writes and its Collect) is queued as
// garbage.

#include <linux/types.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "proxy-ebpf/bpf/lb_layout.h"
#include "proxy-ebpf/maps/bpf_map.h"
#include "proxy-ebpf/maps/lb_codec.h"
#include "proxy-ebpf/maps/lb_maps.h"

namespace berth::proxy {

Status LbMaps::Adopt() {
  // Backends by id, per family.
  std::map<uint32_t, Backend> backends4;
  std::map<uint32_t, Backend> backends6;
  for (bool v6 : {false, true}) {
    int fd = v6 ? fds_.backends6 : fds_.backends4;
    const char* name = v6 ? "lb6_backends" : "lb4_backends";
    Result<std::vector<std::vector<uint8_t>>> keys = MapKeys(fd, sizeof(__u32), name);
    if (!keys.ok()) return keys.error();
    for (const std::vector<uint8_t>& raw : *keys) {
      uint32_t id = 0;
      std::memcpy(&id, raw.data(), sizeof(id));
      if (v6) {
        lb6_backend value{};
        Result<bool> found = MapLookup(fd, &id, &value, name);
        if (!found.ok()) return found.error();
        if (*found) backends6[id] = DecodeBackend6(value);
      } else {
        lb4_backend value{};
        Result<bool> found = MapLookup(fd, &id, &value, name);
        if (!found.ok()) return found.error();
        if (*found) backends4[id] = DecodeBackend4(value);
      }
    }
  }

  std::vector<uint32_t> table(maglev_size_);
  auto adopt_service = [&](const FrontendKey& key, const lb_service& value) -> Status {
    InstalledFrontend installed;
    installed.id = value.id;
    installed.rev = value.rev;
    installed.flags = value.flags;
    installed.affinity_timeout = value.affinity_timeout;
    if (value.count > 0) {
      if (selection_ == Selection::kMaglev) {
        Result<bool> found = MapLookup(fds_.maglev, &value.id, table.data(), "lb_maglev");
        if (!found.ok()) return found.error();
        if (*found) {
          std::set<uint32_t> ids(table.begin(), table.end());
          installed.backend_ids.assign(ids.begin(), ids.end());
        }
      } else {
        for (uint32_t slot = 0; slot < value.count; ++slot) {
          lb_slot_key slot_key{value.id, value.rev, slot};
          uint32_t backend_id = 0;
          Result<bool> found = MapLookup(fds_.slots, &slot_key, &backend_id, "lb_slots");
          if (!found.ok()) return found.error();
          if (*found) installed.backend_ids.push_back(backend_id);
        }
      }
    }
    // A backend list that cannot be read whole is adopted as empty, so
    // that the first Replace rewrites it. Backends are kept sorted, their
    // ids in the same order.
    std::map<uint32_t, Backend>& by_id = key.address.v6 ? backends6 : backends4;
    std::vector<std::pair<Backend, uint32_t>> pairs;
    for (uint32_t id : installed.backend_ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) break;
      pairs.emplace_back(it->second, id);
    }
    bool whole = pairs.size() == value.count;
    std::sort(pairs.begin(), pairs.end());
    installed.backends.clear();
    installed.backend_ids.clear();
    installed.stale = !whole;
    if (whole) {
      for (const auto& [backend, id] : pairs) {
        installed.backends.push_back(backend);
        installed.backend_ids.push_back(id);
      }
    }
    lb_service_name name{};
    Result<bool> found = MapLookup(fds_.names, &value.id, &name, "lb_names");
    if (!found.ok()) return found.error();
    if (*found) {
      installed.name.assign(name.name, strnlen(name.name, sizeof(name.name)));
      installed.kind = name.kind;
    }
    service_ids_.Claim(value.id);
    for (size_t i = 0; i < installed.backend_ids.size(); ++i) {
      BackendIdentity identity{installed.backends[i].address, installed.backends[i].port,
                               key.protocol};
      BackendEntry& entry = backends_[identity];
      entry.id = installed.backend_ids[i];
      ++entry.refs;
    }
    installed_[key] = std::move(installed);
    return {};
  };
  for (bool v6 : {false, true}) {
    int fd = v6 ? fds_.services6 : fds_.services4;
    const char* name = v6 ? "lb6_services" : "lb4_services";
    size_t key_size = v6 ? sizeof(lb6_service_key) : sizeof(lb4_service_key);
    Result<std::vector<std::vector<uint8_t>>> keys = MapKeys(fd, key_size, name);
    if (!keys.ok()) return keys.error();
    for (const std::vector<uint8_t>& raw : *keys) {
      lb_service value{};
      Result<bool> found = MapLookup(fd, raw.data(), &value, name);
      if (!found.ok()) return found.error();
      if (!*found) continue;
      FrontendKey key;
      if (v6) {
        lb6_service_key k{};
        std::memcpy(&k, raw.data(), sizeof(k));
        key = DecodeKey6(k);
      } else {
        lb4_service_key k{};
        std::memcpy(&k, raw.data(), sizeof(k));
        key = DecodeKey4(k);
      }
      if (Status ok = adopt_service(key, value); !ok.ok()) return ok;
    }
  }
  return DropUnreachable(backends4, backends6);
}

// What no adopted service reaches: backends, slots of other generations,
// tables and names of unknown ids.
Status LbMaps::DropUnreachable(const std::map<uint32_t, Backend>& backends4,
                               const std::map<uint32_t, Backend>& backends6) {
  std::set<uint32_t> used4;
  std::set<uint32_t> used6;
  std::map<uint32_t, uint32_t> current_rev;
  for (const auto& [key, installed] : installed_) {
    (key.address.v6 ? used6 : used4)
        .insert(installed.backend_ids.begin(), installed.backend_ids.end());
    current_rev[installed.id] = installed.rev;
  }
  for (uint32_t id : used4)
    backend_ids4_.Claim(id);
  for (uint32_t id : used6)
    backend_ids6_.Claim(id);

  MapBatch drop4(fds_.backends4, sizeof(__u32), sizeof(lb4_backend), "lb4_backends");
  for (const auto& [id, backend] : backends4)
    if (!used4.count(id)) drop4.Delete(&id);
  MapBatch drop6(fds_.backends6, sizeof(__u32), sizeof(lb6_backend), "lb6_backends");
  for (const auto& [id, backend] : backends6)
    if (!used6.count(id)) drop6.Delete(&id);

  MapBatch slots(fds_.slots, sizeof(lb_slot_key), sizeof(__u32), "lb_slots");
  Result<std::vector<std::vector<uint8_t>>> slot_keys =
      MapKeys(fds_.slots, sizeof(lb_slot_key), "lb_slots");
  if (!slot_keys.ok()) return slot_keys.error();
  for (const std::vector<uint8_t>& raw : *slot_keys) {
    lb_slot_key key{};
    std::memcpy(&key, raw.data(), sizeof(key));
    auto it = current_rev.find(key.service_id);
    if (it == current_rev.end() || it->second != key.rev || selection_ == Selection::kMaglev)
      slots.Delete(&key);
  }

  MapBatch maglev(fds_.maglev, sizeof(__u32), sizeof(__u32) * maglev_size_, "lb_maglev");
  MapBatch names(fds_.names, sizeof(__u32), sizeof(lb_service_name), "lb_names");
  for (auto [fd, batch, name] : {std::tuple{fds_.maglev, &maglev, "lb_maglev"},
                                 std::tuple{fds_.names, &names, "lb_names"}}) {
    Result<std::vector<std::vector<uint8_t>>> keys = MapKeys(fd, sizeof(__u32), name);
    if (!keys.ok()) return keys.error();
    for (const std::vector<uint8_t>& raw : *keys) {
      uint32_t id = 0;
      std::memcpy(&id, raw.data(), sizeof(id));
      if (!current_rev.count(id)) batch->Delete(&id);
    }
  }
  for (MapBatch* batch : {&drop4, &drop6, &slots, &maglev, &names})
    if (Status ok = batch->Flush(); !ok.ok()) return ok;
  return {};
}

}  // namespace berth::proxy
