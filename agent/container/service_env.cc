#include "agent/container/service_env.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "agent/container/object_fields.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using fields::ArrayAt;
using fields::IntAt;
using fields::ObjectAt;
using fields::StringAt;

std::string VarName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string JoinHostPort(const std::string& host, int64_t port) {
  std::string p = std::to_string(port);
  return host.find(':') != std::string::npos ? "[" + host + "]:" + p : host + ":" + p;
}

bool HasClusterIp(const bj::object& service) {
  std::string ip = StringAt(ObjectAt(&service, "spec"), "clusterIP");
  return !ip.empty() && ip != "None";
}

void AppendLinkVars(const std::string& prefix, const std::string& ip, const bj::array& ports,
                    std::vector<EnvVar>* out) {
  for (size_t i = 0; i < ports.size(); ++i) {
    const bj::object* port = ports[i].if_object();
    int64_t number = IntAt(port, "port").value_or(0);
    std::string protocol = StringAt(port, "protocol");
    if (protocol.empty()) protocol = "TCP";
    std::string url = Lower(protocol) + "://" + JoinHostPort(ip, number);
    // Docker special-cases the first port.
    if (i == 0) out->push_back({prefix + "_PORT", url});
    std::string port_prefix = prefix + "_PORT_" + std::to_string(number) + "_" + Upper(protocol);
    out->push_back({port_prefix, url});
    out->push_back({port_prefix + "_PROTO", Lower(protocol)});
    out->push_back({port_prefix + "_PORT", std::to_string(number)});
    out->push_back({port_prefix + "_ADDR", ip});
  }
}

}  // namespace

std::vector<EnvVar> ServiceLinkVars(const std::vector<const bj::object*>& services) {
  std::vector<EnvVar> out;
  for (const bj::object* service : services) {
    if (service == nullptr || !HasClusterIp(*service)) continue;
    const bj::object* spec = ObjectAt(service, "spec");
    const bj::array* ports = ArrayAt(spec, "ports");
    if (ports == nullptr || ports->empty()) continue;
    std::string prefix = VarName(StringAt(ObjectAt(service, "metadata"), "name"));
    std::string ip = StringAt(spec, "clusterIP");
    out.push_back({prefix + "_SERVICE_HOST", ip});
    std::string port_var = prefix + "_SERVICE_PORT";
    out.push_back({port_var, std::to_string(IntAt((*ports)[0].if_object(), "port").value_or(0))});
    // Every named port (only the first may be unnamed).
    for (const bj::value& p : *ports) {
      std::string name = StringAt(p.if_object(), "name");
      if (!name.empty()) {
        out.push_back({port_var + "_" + VarName(name),
                       std::to_string(IntAt(p.if_object(), "port").value_or(0))});
      }
    }
    AppendLinkVars(prefix, ip, *ports, &out);
  }
  return out;
}

std::vector<const bj::object*> ServicesForPod(const std::vector<bj::object>& services,
                                              const std::string& pod_namespace,
                                              bool enable_service_links) {
  std::map<std::string, const bj::object*> by_name;
  for (const bj::object& service : services) {
    if (!HasClusterIp(service)) continue;
    const bj::object* meta = ObjectAt(&service, "metadata");
    std::string name = StringAt(meta, "name");
    std::string ns = StringAt(meta, "namespace");
    if (ns == "default" && name == "kubernetes") {
      by_name.try_emplace(name, &service);
    } else if (ns == pod_namespace && enable_service_links) {
      by_name[name] = &service;
    }
  }
  std::vector<const bj::object*> out;
  out.reserve(by_name.size());
  for (const auto& [name, service] : by_name)
    out.push_back(service);
  return out;
}

}  // namespace berth::agent
