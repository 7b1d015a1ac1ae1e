#include "controlplane/server/registry/service_addresses.h"

#include <set>

#include "common/log.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::registry {
namespace {

namespace bj = boost::json;

bool WantsClusterIp(const bj::object& svc) {
  return api::LookupString(svc, {"spec", "type"}) != "ExternalName" &&
         api::LookupString(svc, {"spec", "clusterIP"}) != "None";
}

bool WantsNodePorts(const bj::object& svc) {
  std::string type = api::LookupString(svc, {"spec", "type"});
  return type == "NodePort" || type == "LoadBalancer";
}

std::set<int> NodePorts(const bj::object& svc) {
  std::set<int> out;
  const bj::value* ports = api::Lookup(svc, {"spec", "ports"});
  if (ports == nullptr || !ports->is_array()) return out;
  for (const bj::value& p : ports->as_array()) {
    if (!p.is_object()) continue;
    int64_t n = api::LookupInt(p.as_object(), {"nodePort"});
    if (n > 0) out.insert(static_cast<int>(n));
  }
  return out;
}

// The node port `old` gave the port matching `port` (by name, else by
// number and protocol); 0 when none.
int OldNodePort(const bj::object& old, const bj::object& port) {
  const bj::value* ports = api::Lookup(old, {"spec", "ports"});
  if (ports == nullptr || !ports->is_array()) return 0;
  std::string name = api::LookupString(port, {"name"});
  for (const bj::value& p : ports->as_array()) {
    if (!p.is_object()) continue;
    const bj::object& o = p.as_object();
    bool same = !name.empty() ? api::LookupString(o, {"name"}) == name
                              : api::LookupInt(o, {"port"}) == api::LookupInt(port, {"port"}) &&
                                    api::LookupString(o, {"protocol"}) ==
                                        api::LookupString(port, {"protocol"});
    if (same) return static_cast<int>(api::LookupInt(o, {"nodePort"}));
  }
  return 0;
}

api::ApiStatus Invalid(const bj::object& svc, const std::string& field, const bj::value& value,
                       const Error& e) {
  api::FieldErrors errors;
  if (e.code() == Errc::kInvalidArgument || e.code() == Errc::kAlreadyExists) {
    errors.Invalid(field, value, e.message());
  } else {
    return api::Internal(e.str());
  }
  return api::InvalidStatus("", "Service", api::NameOf(svc), errors.causes());
}

}  // namespace

ApiResult<bj::object> AllocateServiceAddresses(ServiceAllocator& allocator, bj::object svc,
                                               const bj::object* old) {
  std::string owner = api::LookupString(svc, {"metadata", "namespace"}) + "/" + api::NameOf(svc);
  bj::object& spec = api::Child(svc, "spec");
  std::vector<std::string> taken_ips;
  std::vector<int> taken_ports;
  auto undo = [&] {
    for (const std::string& ip : taken_ips)
      (void)allocator.ReleaseIp(ip);
    for (int port : taken_ports)
      (void)allocator.ReleaseNodePort(port);
  };
  std::string old_ip =
      old != nullptr && WantsClusterIp(*old) ? api::LookupString(*old, {"spec", "clusterIP"}) : "";
  if (WantsClusterIp(svc)) {
    std::string ip = api::LookupString(spec, {"clusterIP"});
    if (!old_ip.empty() && old_ip != "None" && (ip.empty() || ip == old_ip)) {
      ip = old_ip;  // kept from before
    } else {
      Result<std::string> got = allocator.AllocateIp(ip, owner);
      if (!got.ok()) return Invalid(svc, "spec.clusterIPs", bj::string(ip), got.error());
      ip = *got;
      taken_ips.push_back(ip);
    }
    spec["clusterIP"] = ip;
    spec["clusterIPs"] = bj::array{bj::string(ip)};
    spec["ipFamilies"] = bj::array{"IPv4"};
    spec["ipFamilyPolicy"] = "SingleStack";
  } else if (api::LookupString(spec, {"clusterIP"}) == "None") {
    spec["clusterIPs"] = bj::array{"None"};
    spec["ipFamilies"] = bj::array{"IPv4"};
    spec["ipFamilyPolicy"] = "SingleStack";
  }
  if (WantsNodePorts(svc)) {
    std::set<int> had = old != nullptr && WantsNodePorts(*old) ? NodePorts(*old) : std::set<int>();
    if (bj::value* ports = spec.if_contains("ports"); ports != nullptr && ports->is_array()) {
      size_t i = 0;
      for (bj::value& p : ports->as_array()) {
        std::string field = "spec.ports[" + std::to_string(i++) + "].nodePort";
        if (!p.is_object()) continue;
        int requested = static_cast<int>(api::LookupInt(p.as_object(), {"nodePort"}));
        // An update that leaves nodePort out keeps the port's old one.
        if (requested == 0 && old != nullptr && WantsNodePorts(*old)) {
          requested = OldNodePort(*old, p.as_object());
        }
        if (requested != 0 && had.contains(requested)) continue;  // already ours
        Result<int> got = allocator.AllocateNodePort(requested, owner);
        if (!got.ok()) {
          undo();
          return Invalid(svc, field, bj::value(requested), got.error());
        }
        taken_ports.push_back(*got);
        p.as_object()["nodePort"] = *got;
      }
    }
  } else if (bj::value* ports = spec.if_contains("ports"); ports != nullptr && ports->is_array()) {
    for (bj::value& p : ports->as_array())
      if (p.is_object()) p.as_object().erase("nodePort");
  }
  return svc;
}

void ReleaseServiceAddresses(ServiceAllocator& allocator, const bj::object& svc,
                             const bj::object* keep) {
  // Only what the service was given: an ExternalName service holds none.
  std::string ip = WantsClusterIp(svc) ? api::LookupString(svc, {"spec", "clusterIP"}) : "";
  std::string kept_ip = keep != nullptr && WantsClusterIp(*keep)
                            ? api::LookupString(*keep, {"spec", "clusterIP"})
                            : "";
  if (!ip.empty() && ip != "None" && ip != kept_ip) {
    if (Status s = allocator.ReleaseIp(ip); !s.ok()) {
      BLOG(kWarn) << "release service IP " << ip << ": " << s.error().str();
    }
  }
  std::set<int> kept =
      keep != nullptr && WantsNodePorts(*keep) ? NodePorts(*keep) : std::set<int>();
  for (int port : WantsNodePorts(svc) ? NodePorts(svc) : std::set<int>()) {
    if (kept.contains(port)) continue;
    if (Status s = allocator.ReleaseNodePort(port); !s.ok()) {
      BLOG(kWarn) << "release node port " << port << ": " << s.error().str();
    }
  }
}

}  // namespace berth::controlplane::registry
