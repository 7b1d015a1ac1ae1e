// core/v1 Service: defaults (type, sessionAffinity, port protocol and
// targetPort), port validation, the immutable clusterIP, and the columns
// of `kubectl get services`. ClusterIP and NodePort allocation is the
// REST layer's (it needs the store).

#include <algorithm>

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

std::string Ports(const bj::object& svc) {
  const bj::value* ports = Lookup(svc, {"spec", "ports"});
  if (ports == nullptr || !ports->is_array() || ports->as_array().empty()) return "<none>";
  std::string out;
  for (const bj::value& p : ports->as_array()) {
    if (!p.is_object()) continue;
    const bj::object& po = p.as_object();
    if (!out.empty()) out += ",";
    out += std::to_string(LookupInt(po, {"port"}));
    if (int64_t node_port = LookupInt(po, {"nodePort"}); node_port != 0) {
      out += ":" + std::to_string(node_port);
    }
    out += "/" + LookupString(po, {"protocol"});
  }
  return out;
}

std::string ExternalIp(const bj::object& svc) {
  std::string type = LookupString(svc, {"spec", "type"});
  std::vector<std::string> ips;
  if (const bj::value* e = Lookup(svc, {"spec", "externalIPs"}); e && e->is_array()) {
    for (const bj::value& ip : e->as_array())
      if (ip.is_string()) ips.emplace_back(ip.as_string());
  }
  if (type == "LoadBalancer") {
    if (const bj::value* in = Lookup(svc, {"status", "loadBalancer", "ingress"});
        in && in->is_array()) {
      for (const bj::value& i : in->as_array()) {
        if (!i.is_object()) continue;
        std::string ip = LookupString(i.as_object(), {"ip"});
        if (ip.empty()) ip = LookupString(i.as_object(), {"hostname"});
        if (!ip.empty()) ips.push_back(ip);
      }
    }
    if (ips.empty()) return "<pending>";
  }
  if (type == "ExternalName") return LookupString(svc, {"spec", "externalName"});
  if (ips.empty()) return "<none>";
  std::string out;
  for (const std::string& ip : ips)
    out += (out.empty() ? "" : ",") + ip;
  return out;
}

std::string Selector(const bj::object& svc) {
  const bj::value* s = Lookup(svc, {"spec", "selector"});
  if (s == nullptr || !s->is_object() || s->as_object().empty()) return "<none>";
  std::string out;
  for (const auto& [k, v] : s->as_object())
    out += (out.empty() ? "" : ",") + std::string(k) + "=" +
           (v.is_string() ? std::string(v.as_string()) : "");
  return out;
}

class Service : public Kind {
 public:
  NameRule name_rule() const override { return NameRule::kLabel; }

  void Default(bj::object& obj) const override {
    bj::object& spec = Child(obj, "spec");
    SetDefault(spec, "type", "ClusterIP");
    std::string type = LookupString(spec, {"type"});
    if (type != "ExternalName") {
      SetDefault(spec, "sessionAffinity", "None");
      SetDefault(spec, "internalTrafficPolicy", "Cluster");
    }
    if (type == "NodePort" || type == "LoadBalancer") {
      SetDefault(spec, "externalTrafficPolicy", "Cluster");
    }
    if (bj::value* ports = spec.if_contains("ports"); ports != nullptr && ports->is_array()) {
      for (bj::value& p : ports->as_array()) {
        if (!p.is_object()) continue;
        bj::object& po = p.as_object();
        SetDefault(po, "protocol", "TCP");
        if (const bj::value* port = po.if_contains("port"); port != nullptr) {
          SetDefault(po, "targetPort", *port);
        }
      }
    }
  }

  void Validate(const bj::object& obj, const bj::object* old, FieldErrors& errors) const override {
    const bj::value* specv = obj.if_contains("spec");
    if (specv == nullptr || !specv->is_object()) return errors.Required("spec");
    const bj::object& spec = specv->as_object();
    std::string type = LookupString(spec, {"type"});
    static const std::vector<std::string> kTypes = {"ClusterIP", "ExternalName", "LoadBalancer",
                                                    "NodePort"};
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
      errors.NotSupported("spec.type", spec.at("type"), kTypes);
    }
    const bj::value* ports = spec.if_contains("ports");
    bool headless = LookupString(spec, {"clusterIP"}) == "None";
    if (type != "ExternalName" && !headless &&
        (ports == nullptr || !ports->is_array() || ports->as_array().empty())) {
      errors.Required("spec.ports");
    }
    if (type == "ExternalName" && LookupString(spec, {"externalName"}).empty()) {
      errors.Required("spec.externalName");
    }
    if (type == "ExternalName" && !LookupString(spec, {"clusterIP"}).empty()) {
      errors.Forbidden("spec.clusterIPs", "may not be set for ExternalName services");
    }
    if (ports != nullptr && ports->is_array()) {
      const bj::array& list = ports->as_array();
      for (size_t i = 0; i < list.size(); ++i) {
        if (!list[i].is_object()) continue;
        const bj::object& p = list[i].as_object();
        std::string at = "spec.ports[" + std::to_string(i) + "]";
        int64_t port = LookupInt(p, {"port"});
        if (port < 1 || port > 65535) {
          errors.Invalid(at + ".port", p.contains("port") ? p.at("port") : bj::value(0),
                         "must be between 1 and 65535, inclusive");
        }
        if (list.size() > 1 && LookupString(p, {"name"}).empty()) errors.Required(at + ".name");
        std::string protocol = LookupString(p, {"protocol"});
        if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
          errors.NotSupported(at + ".protocol", bj::string(protocol), {"SCTP", "TCP", "UDP"});
        }
      }
    }
    if (old != nullptr) {
      std::string old_ip = LookupString(*old, {"spec", "clusterIP"});
      std::string new_ip = LookupString(spec, {"clusterIP"});
      if (!old_ip.empty() && new_ip != old_ip && !new_ip.empty()) {
        errors.Invalid("spec.clusterIPs[0]", bj::string(new_ip), "may not change once set");
      }
    }
  }

  std::optional<std::string> Field(const bj::object& obj, std::string_view field) const override {
    if (field == "spec.clusterIP") return LookupString(obj, {"spec", "clusterIP"});
    if (field == "spec.type") return LookupString(obj, {"spec", "type"});
    return Kind::Field(obj, field);
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Type", "string", "", "The type of the service.", 0},
            {"Cluster-IP", "string", "", "The cluster IP of the service.", 0},
            {"External-IP", "string", "", "The external IP of the service.", 0},
            {"Port(s)", "string", "", "The ports of the service.", 0},
            AgeColumn(),
            {"Selector", "string", "", "The selector of the service.", 1}};
  }
  bj::array Cells(const bj::object& obj, time_t now) const override {
    std::string ip = LookupString(obj, {"spec", "clusterIP"});
    return {NameOf(obj),
            LookupString(obj, {"spec", "type"}),
            ip.empty() ? "<none>" : ip,
            ExternalIp(obj),
            Ports(obj),
            Age(obj, now),
            Selector(obj)};
  }
};

}  // namespace

const Kind& ServiceKind() {
  static const Service kind;
  return kind;
}

}  // namespace berth::controlplane::api
