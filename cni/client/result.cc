#include "cni/client/result.h"

#include <arpa/inet.h>

#include "cni/client/version.h"
#include "common/json.h"
#include "common/strings.h"

namespace berth::cni {

namespace {

Result<Interface> ParseInterface(const json::Field& f) {
  if (!f.present() || !f.raw()->is_object()) return f.TypeError("object");
  Interface itf;
  itf.name = BERTH_TRY(f["name"].String());
  itf.mac = BERTH_TRY(f["mac"].OptString()).value_or("");
  itf.sandbox = BERTH_TRY(f["sandbox"].OptString()).value_or("");
  itf.mtu = BERTH_TRY(f["mtu"].OptInt<int>());
  return itf;
}

Result<IpConfig> ParseIpConfig(const json::Field& f, size_t interface_count, bool legacy) {
  if (!f.present() || !f.raw()->is_object()) return f.TypeError("object");
  IpConfig ip;
  ip.address = BERTH_TRY(f["address"].String());
  ip.family = BERTH_TRY(ParseCidr(ip.address, f["address"].path()));
  ip.gateway = BERTH_TRY(f["gateway"].OptString()).value_or("");
  if (!ip.gateway.empty()) BERTH_TRY(ParseIp(ip.gateway, f["gateway"].path()));
  ip.interface = BERTH_TRY(f["interface"].OptInt<size_t>());
  if (ip.interface && *ip.interface >= interface_count) {
    return f["interface"].Invalid("index " + std::to_string(*ip.interface) + " but " +
                                  std::to_string(interface_count) + " interfaces");
  }
  if (legacy) {
    std::optional<std::string> version = BERTH_TRY(f["version"].OptString());
    if (version && *version != std::to_string(ip.family)) {
      return f["version"].Invalid("\"" + *version + "\" does not match the address");
    }
  }
  return ip;
}

Result<Route> ParseRoute(const json::Field& f) {
  if (!f.present() || !f.raw()->is_object()) return f.TypeError("object");
  Route r;
  r.dst = BERTH_TRY(f["dst"].String());
  BERTH_TRY(ParseCidr(r.dst, f["dst"].path()));
  r.gw = BERTH_TRY(f["gw"].OptString()).value_or("");
  if (!r.gw.empty()) BERTH_TRY(ParseIp(r.gw, f["gw"].path()));
  return r;
}

Result<Dns> ParseDns(const json::Field& f) {
  BERTH_TRY(f.ExpectObject());
  Dns dns;
  dns.nameservers = BERTH_TRY(f["nameservers"].StringArray());
  dns.domain = BERTH_TRY(f["domain"].OptString()).value_or("");
  dns.search = BERTH_TRY(f["search"].StringArray());
  dns.options = BERTH_TRY(f["options"].StringArray());
  return dns;
}

bool IsLegacyFormat(std::string_view version) {
  return !VersionAtLeast(version, "1.0.0");
}

}  // namespace

Result<int> ParseIp(std::string_view ip, std::string_view what) {
  std::string s(ip);
  unsigned char buf[16];
  if (::inet_pton(AF_INET, s.c_str(), buf) == 1) return 4;
  if (::inet_pton(AF_INET6, s.c_str(), buf) == 1) return 6;
  return Error(Errc::kInvalidArgument, std::string(what) + ": invalid IP address \"" + s + "\"");
}

Result<int> ParseCidr(std::string_view cidr, std::string_view what) {
  size_t slash = cidr.find('/');
  auto bad = [&] {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": invalid CIDR \"" + std::string(cidr) + "\"");
  };
  if (slash == std::string_view::npos) return bad();
  Result<int> family = ParseIp(cidr.substr(0, slash), what);
  if (!family.ok()) return bad();
  Result<int> prefix = ParseInt<int>(cidr.substr(slash + 1), what);
  if (!prefix.ok() || *prefix < 0 || *prefix > (*family == 4 ? 32 : 128)) return bad();
  return *family;
}

std::string IpConfig::Ip() const {
  return address.substr(0, address.find('/'));
}

Result<NetworkResult> NetworkResult::Parse(std::string_view text, std::string_view what,
                                           std::string_view default_version) {
  bj::value doc = BERTH_TRY(json::Parse(text, what));
  if (!doc.is_object()) {
    return Error(Errc::kInvalidArgument, std::string(what) + ": result is not a JSON object");
  }
  return FromJson(std::move(doc.get_object()), what, default_version);
}

Result<NetworkResult> NetworkResult::FromJson(bj::object doc, std::string_view what,
                                              std::string_view default_version) {
  NetworkResult r;
  r.doc_ = std::move(doc);
  BERTH_TRY_CTX(r.ParseViews(default_version), std::string(what));
  return r;
}

Status NetworkResult::ParseViews(std::string_view default_version) {
  bj::object& obj = doc_.get_object();
  if (!obj.contains("cniVersion") && !default_version.empty()) obj["cniVersion"] = default_version;
  json::Field root(&doc_, "");
  cni_version_ = BERTH_TRY(root["cniVersion"].String());
  if (!IsSupportedVersion(cni_version_)) {
    return root["cniVersion"].Invalid("unsupported result version \"" + cni_version_ + "\"");
  }
  interfaces_ = BERTH_TRY(root["interfaces"].MapItems(ParseInterface));
  bool legacy = IsLegacyFormat(cni_version_);
  size_t count = interfaces_.size();
  ips_ = BERTH_TRY(
      root["ips"].MapItems([&](const json::Field& f) { return ParseIpConfig(f, count, legacy); }));
  routes_ = BERTH_TRY(root["routes"].MapItems(ParseRoute));
  dns_ = BERTH_TRY(ParseDns(root["dns"]));
  return Ok();
}

Result<NetworkResult> NetworkResult::ConvertTo(std::string_view version) const {
  if (!IsSupportedVersion(version)) {
    return Error(Errc::kInvalidArgument, "convert CNI result from " + cni_version_ + " to " +
                                             std::string(version) + ": unsupported version");
  }
  bj::object doc = doc_.get_object();
  doc["cniVersion"] = version;
  bool legacy = IsLegacyFormat(version);
  if (bj::value* ips = doc.if_contains("ips"); ips && ips->is_array()) {
    for (size_t i = 0; i < ips->get_array().size() && i < ips_.size(); ++i) {
      bj::object& ip = ips->get_array()[i].as_object();
      if (legacy) {
        ip["version"] = std::to_string(ips_[i].family);
      } else {
        ip.erase("version");
      }
    }
  }
  return FromJson(std::move(doc), "CNI result " + std::string(version));
}

std::vector<std::string> NetworkResult::PodIps(std::string_view ifname) const {
  auto on = [&](auto&& wanted) {
    std::vector<const IpConfig*> out;
    for (const IpConfig& ip : ips_) {
      if (wanted(ip)) out.push_back(&ip);
    }
    return out;
  };
  auto in_sandbox = [&](const IpConfig& ip) {
    return ip.interface && !interfaces_[*ip.interface].sandbox.empty();
  };
  std::vector<const IpConfig*> chosen = on([&](const IpConfig& ip) {
    return in_sandbox(ip) && interfaces_[*ip.interface].name == ifname;
  });
  if (chosen.empty()) chosen = on(in_sandbox);
  if (chosen.empty()) chosen = on([](const IpConfig& ip) { return !ip.interface.has_value(); });
  std::vector<std::string> out;
  for (int family : {4, 6}) {
    for (const IpConfig* ip : chosen) {
      if (ip->family == family) out.push_back(ip->Ip());
    }
  }
  return out;
}

}  // namespace berth::cni
