#include "proxy-ebpf/maps/lb_dump.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "proxy-ebpf/bpf/lb_layout.h"
#include "proxy-ebpf/maps/bpf_map.h"
#include "proxy-ebpf/maps/lb_codec.h"

namespace berth::proxy {
namespace {

constexpr const char* kKindNames[] = {"ClusterIP", "NodePort", "ExternalIP", "LoadBalancer"};

Result<uint32_t> ValueSize(int fd, const char* map) {
  bpf_map_info info{};
  uint32_t length = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0)
    return Error::Sys("bpf_obj_get_info_by_fd", std::string("map ") + map);
  return info.value_size;
}

// What the status reads besides the services, each map in a few batch
// lookups: at 10,000 services one lookup per slot would be ~100,000
// syscalls for every /metrics scrape.
struct Snapshot {
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint32_t> slots;  // (id, rev, slot) -> backend
  std::map<uint32_t, Backend> backends4;
  std::map<uint32_t, Backend> backends6;
  std::map<uint32_t, lb_service_name> names;
  MapContents stats;
};

template <class T>
T Read(const uint8_t* bytes) {
  T value{};
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

Result<Snapshot> TakeSnapshot(const LbMapFds& fds, size_t stats_value_size) {
  Snapshot snap;
  MapContents slots =
      BERTH_TRY(MapDump(fds.slots, sizeof(lb_slot_key), sizeof(uint32_t), "lb_slots"));
  for (size_t i = 0; i < slots.size(); ++i) {
    auto key = Read<lb_slot_key>(slots.key(i));
    snap.slots[{key.service_id, key.rev, key.slot}] = Read<uint32_t>(slots.value(i));
  }
  MapContents b4 =
      BERTH_TRY(MapDump(fds.backends4, sizeof(uint32_t), sizeof(lb4_backend), "lb4_backends"));
  for (size_t i = 0; i < b4.size(); ++i)
    snap.backends4[Read<uint32_t>(b4.key(i))] = DecodeBackend4(Read<lb4_backend>(b4.value(i)));
  MapContents b6 =
      BERTH_TRY(MapDump(fds.backends6, sizeof(uint32_t), sizeof(lb6_backend), "lb6_backends"));
  for (size_t i = 0; i < b6.size(); ++i)
    snap.backends6[Read<uint32_t>(b6.key(i))] = DecodeBackend6(Read<lb6_backend>(b6.value(i)));
  MapContents names =
      BERTH_TRY(MapDump(fds.names, sizeof(uint32_t), sizeof(lb_service_name), "lb_names"));
  for (size_t i = 0; i < names.size(); ++i)
    snap.names[Read<uint32_t>(names.key(i))] = Read<lb_service_name>(names.value(i));
  snap.stats = BERTH_TRY(MapDump(fds.stats, sizeof(uint32_t), stats_value_size, "lb_stats"));
  return snap;
}

// The backend ids of one service: its slots, or its Maglev table's ids.
Result<std::vector<uint32_t>> BackendIds(const LbMapFds& fds, const Snapshot& snap,
                                         const lb_service& service, std::vector<uint32_t>& table) {
  std::vector<uint32_t> ids;
  for (uint32_t slot = 0; slot < service.count; ++slot) {
    auto it = snap.slots.find({service.id, service.rev, slot});
    if (it == snap.slots.end()) break;
    ids.push_back(it->second);
  }
  if (ids.size() == service.count) return ids;
  Result<bool> found = MapLookup(fds.maglev, &service.id, table.data(), "lb_maglev");
  if (!found.ok()) return found.error();
  if (!*found) return std::vector<uint32_t>{};
  std::set<uint32_t> unique(table.begin(), table.end());
  return std::vector<uint32_t>(unique.begin(), unique.end());
}

std::string Endpoint(const IpAddress& address, uint16_t port) {
  return address.v6 ? "[" + address.ToString() + "]:" + std::to_string(port)
                    : address.ToString() + ":" + std::to_string(port);
}

std::string LabelEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Result<std::vector<FrontendStatus>> DumpFrontends(const LbMapFds& fds) {
  Result<uint32_t> maglev_value = ValueSize(fds.maglev, "lb_maglev");
  if (!maglev_value.ok()) return maglev_value.error();
  std::vector<uint32_t> table(*maglev_value / sizeof(uint32_t));
  int cpus = std::max(1, libbpf_num_possible_cpus());
  std::vector<uint8_t> stats(StatsValueSize(cpus));
  const size_t stride = StatsValueSize(1);

  Snapshot snap = BERTH_TRY(TakeSnapshot(fds, stats.size()));

  std::vector<FrontendStatus> out;
  for (bool v6 : {false, true}) {
    MapContents services = BERTH_TRY(
        v6 ? MapDump(fds.services6, sizeof(lb6_service_key), sizeof(lb_service), "lb6_services")
           : MapDump(fds.services4, sizeof(lb4_service_key), sizeof(lb_service), "lb4_services"));
    for (size_t i = 0; i < services.size(); ++i) {
      auto service = Read<lb_service>(services.value(i));
      FrontendStatus status;
      status.key = v6 ? DecodeKey6(Read<lb6_service_key>(services.key(i)))
                      : DecodeKey4(Read<lb4_service_key>(services.key(i)));
      status.id = service.id;
      status.flags = service.flags;
      if (auto named = snap.names.find(service.id); named != snap.names.end()) {
        const lb_service_name& name = named->second;
        status.name.assign(name.name, strnlen(name.name, sizeof(name.name)));
        if (name.kind < std::size(kKindNames)) status.kind = kKindNames[name.kind];
      }
      std::vector<uint32_t> ids = BERTH_TRY(BackendIds(fds, snap, service, table));
      const std::map<uint32_t, Backend>& by_id = v6 ? snap.backends6 : snap.backends4;
      for (uint32_t id : ids) {
        if (auto it = by_id.find(id); it != by_id.end()) status.backends.push_back(it->second);
      }
      std::sort(status.backends.begin(), status.backends.end());
      // An array dumps in key order: entry i is id i.
      if (service.id < snap.stats.size() &&
          Read<uint32_t>(snap.stats.key(service.id)) == service.id) {
        const uint8_t* per_cpu = snap.stats.value(service.id);
        for (int cpu = 0; cpu < cpus; ++cpu) {
          auto one = Read<lb_service_stats>(per_cpu + cpu * stride);
          status.connections += one.connections;
          status.refused += one.refused;
        }
      }
      out.push_back(std::move(status));
    }
  }
  std::sort(out.begin(), out.end(), [](const FrontendStatus& a, const FrontendStatus& b) {
    return std::tie(a.name, a.key) < std::tie(b.name, b.key);
  });
  return out;
}

Result<LbMapFds> OpenPinnedMaps(const std::string& pin_dir) {
  LbMapFds fds;
  int* slots[] = {&fds.services4, &fds.services6, &fds.slots,    &fds.maglev,
                  &fds.backends4, &fds.backends6, &fds.affinity, &fds.reverse4,
                  &fds.reverse6,  &fds.stats,     &fds.names};
  static_assert(std::size(slots) == std::size(kMapNames));
  struct bpf_obj_get_opts opts {};
  opts.sz = sizeof(opts);
  opts.file_flags = BPF_F_RDONLY;
  for (size_t i = 0; i < std::size(slots); ++i) {
    std::string path = pin_dir + "/" + kMapNames[i];
    *slots[i] = bpf_obj_get_opts(path.c_str(), &opts);
    if (*slots[i] < 0) {
      Error error = Error::Sys("bpf_obj_get", path);
      CloseMaps(fds);
      return std::move(error).Wrap("no berth dataplane pinned here (is `berth proxy` running?)");
    }
  }
  return fds;
}

void CloseMaps(LbMapFds& fds) {
  for (int* fd :
       {&fds.services4, &fds.services6, &fds.slots, &fds.maglev, &fds.backends4, &fds.backends6,
        &fds.affinity, &fds.reverse4, &fds.reverse6, &fds.stats, &fds.names}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::string FormatStatus(const std::vector<FrontendStatus>& frontends) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-36s %-12s %-30s %-8s %8s %12s %8s\n", "SERVICE", "KIND",
                "FRONTEND", "SCOPE", "BACKENDS", "CONNECTIONS", "REFUSED");
  out << line;
  for (const FrontendStatus& f : frontends) {
    std::string frontend =
        Endpoint(f.key.address, f.key.port) + "/" + std::string(L4Name(f.key.protocol));
    std::snprintf(line, sizeof(line), "%-36s %-12s %-30s %-8s %8zu %12llu %8llu\n",
                  f.name.empty() ? "-" : f.name.c_str(), f.kind.empty() ? "-" : f.kind.c_str(),
                  frontend.c_str(), f.key.scope == Scope::kInternal ? "internal" : "external",
                  f.backends.size(), static_cast<unsigned long long>(f.connections),
                  static_cast<unsigned long long>(f.refused));
    out << line;
    for (const Backend& b : f.backends)
      out << "    -> " << Endpoint(b.address, b.port) << (b.local ? " local" : "")
          << (b.terminating ? " terminating" : "") << "\n";
  }
  return out.str();
}

std::string PrometheusText(const std::vector<FrontendStatus>& frontends) {
  std::ostringstream out;
  auto labels = [](const FrontendStatus& f) {
    return "{service=\"" + LabelEscape(f.name) + "\",kind=\"" + f.kind + "\",frontend=\"" +
           LabelEscape(Endpoint(f.key.address, f.key.port)) + "\",protocol=\"" +
           std::string(L4Name(f.key.protocol)) + "\",scope=\"" +
           (f.key.scope == Scope::kInternal ? "internal" : "external") + "\"}";
  };
  out << "# HELP berth_proxy_frontends Service frontends programmed in the dataplane.\n"
      << "# TYPE berth_proxy_frontends gauge\n"
      << "berth_proxy_frontends " << frontends.size() << "\n";
  out << "# HELP berth_proxy_frontend_backends Backends receiving new connections.\n"
      << "# TYPE berth_proxy_frontend_backends gauge\n";
  for (const FrontendStatus& f : frontends)
    out << "berth_proxy_frontend_backends" << labels(f) << " " << f.backends.size() << "\n";
  out << "# HELP berth_proxy_frontend_connections_total Connections (and UDP sends) translated.\n"
      << "# TYPE berth_proxy_frontend_connections_total counter\n";
  for (const FrontendStatus& f : frontends)
    out << "berth_proxy_frontend_connections_total" << labels(f) << " " << f.connections << "\n";
  out << "# HELP berth_proxy_frontend_refused_total Connections refused: no endpoints.\n"
      << "# TYPE berth_proxy_frontend_refused_total counter\n";
  for (const FrontendStatus& f : frontends)
    out << "berth_proxy_frontend_refused_total" << labels(f) << " " << f.refused << "\n";
  return out.str();
}

}  // namespace berth::proxy
