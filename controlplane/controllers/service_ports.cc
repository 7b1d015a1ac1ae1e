#include "controlplane/controllers/service_ports.h"

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

// The containerPort of the port named `name` with `protocol` among
// `containers` (spec.containers or spec.initContainers).
std::optional<int64_t> NamedPort(const bj::value* containers, const std::string& name,
                                 const std::string& protocol, bool sidecars_only) {
  if (containers == nullptr || !containers->is_array()) return std::nullopt;
  for (const bj::value& c : containers->as_array()) {
    if (!c.is_object()) continue;
    if (sidecars_only && StringAt(c.as_object(), {"restartPolicy"}) != "Always") continue;
    const bj::value* ports = c.as_object().if_contains("ports");
    if (ports == nullptr || !ports->is_array()) continue;
    for (const bj::value& p : ports->as_array()) {
      if (!p.is_object()) continue;
      const bj::object& port = p.as_object();
      if (StringAt(port, {"name"}) != name || PortProtocol(port) != protocol) continue;
      const bj::value* number = port.if_contains("containerPort");
      if (number != nullptr && number->is_int64()) return number->as_int64();
    }
  }
  return std::nullopt;
}

}  // namespace

std::string PortProtocol(const bj::object& port) {
  std::string protocol = StringAt(port, {"protocol"});
  return protocol.empty() ? "TCP" : protocol;
}

std::optional<int64_t> FindPort(const bj::object& pod, const bj::object& service_port) {
  const bj::value* target = service_port.if_contains("targetPort");
  if (target == nullptr || target->is_null()) target = service_port.if_contains("port");
  if (target == nullptr) return std::nullopt;
  if (target->is_int64()) return target->as_int64();
  if (target->is_uint64()) return static_cast<int64_t>(target->as_uint64());
  if (!target->is_string()) return std::nullopt;
  std::string name(target->as_string());
  std::string protocol = PortProtocol(service_port);
  const bj::value* spec = pod.if_contains("spec");
  if (spec == nullptr || !spec->is_object()) return std::nullopt;
  if (auto port = NamedPort(spec->as_object().if_contains("containers"), name, protocol, false)) {
    return port;
  }
  return NamedPort(spec->as_object().if_contains("initContainers"), name, protocol, true);
}

}  // namespace berth::controlplane::controllers
