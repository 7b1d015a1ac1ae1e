#include "proxy-ebpf/maps/lb_dump.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
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

// The backend ids of one service: its slots, or its Maglev table's ids.
Result<std::vector<uint32_t>> BackendIds(const LbMapFds& fds, const lb_service& service,
                                         std::vector<uint32_t>& table) {
  std::vector<uint32_t> ids;
  for (uint32_t slot = 0; slot < service.count; ++slot) {
    lb_slot_key key{service.id, service.rev, slot};
    uint32_t id = 0;
    Result<bool> found = MapLookup(fds.slots, &key, &id, "lb_slots");
    if (!found.ok()) return found.error();
    if (!*found) break;
    ids.push_back(id);
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

  std::vector<FrontendStatus> out;
  for (bool v6 : {false, true}) {
    int fd = v6 ? fds.services6 : fds.services4;
    const char* map = v6 ? "lb6_services" : "lb4_services";
    Result<std::vector<std::vector<uint8_t>>> keys =
        MapKeys(fd, v6 ? sizeof(lb6_service_key) : sizeof(lb4_service_key), map);
    if (!keys.ok()) return keys.error();
    for (const std::vector<uint8_t>& raw : *keys) {
      lb_service service{};
      Result<bool> found = MapLookup(fd, raw.data(), &service, map);
      if (!found.ok()) return found.error();
      if (!*found) continue;
      FrontendStatus status;
      if (v6) {
        lb6_service_key key{};
        std::memcpy(&key, raw.data(), sizeof(key));
        status.key = DecodeKey6(key);
      } else {
        lb4_service_key key{};
        std::memcpy(&key, raw.data(), sizeof(key));
        status.key = DecodeKey4(key);
      }
      status.id = service.id;
      status.flags = service.flags;
      lb_service_name name{};
      if (Result<bool> named = MapLookup(fds.names, &service.id, &name, "lb_names");
          named.ok() && *named) {
        status.name.assign(name.name, strnlen(name.name, sizeof(name.name)));
        if (name.kind < std::size(kKindNames)) status.kind = kKindNames[name.kind];
      }
      Result<std::vector<uint32_t>> ids = BackendIds(fds, service, table);
      if (!ids.ok()) return ids.error();
      for (uint32_t id : *ids) {
        if (v6) {
          lb6_backend backend{};
          if (Result<bool> hit = MapLookup(fds.backends6, &id, &backend, "lb6_backends");
              hit.ok() && *hit)
            status.backends.push_back(DecodeBackend6(backend));
        } else {
          lb4_backend backend{};
          if (Result<bool> hit = MapLookup(fds.backends4, &id, &backend, "lb4_backends");
              hit.ok() && *hit)
            status.backends.push_back(DecodeBackend4(backend));
        }
      }
      std::sort(status.backends.begin(), status.backends.end());
      if (Result<bool> counted = MapLookup(fds.stats, &service.id, stats.data(), "lb_stats");
          counted.ok() && *counted) {
        for (int cpu = 0; cpu < cpus; ++cpu) {
          lb_service_stats one{};
          std::memcpy(&one, stats.data() + cpu * stride, sizeof(one));
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
