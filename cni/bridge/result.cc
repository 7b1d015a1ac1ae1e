#include "cni/bridge/result.h"

#include "cni/bridge/version.h"
#include "common/json.h"

namespace berth::cni::bridge {
namespace {

namespace bj = boost::json;
using json::Field;

bj::array StringArray(const std::vector<std::string>& v) {
  bj::array a;
  for (const std::string& s : v)
    a.emplace_back(s);
  return a;
}

bj::object InterfaceToJson(const ResultInterface& i) {
  bj::object o;
  o["name"] = i.name;
  if (!i.mac.empty()) o["mac"] = i.mac;
  if (!i.sandbox.empty()) o["sandbox"] = i.sandbox;
  return o;
}

bj::object IpToJson(const ResultIp& ip, bool legacy) {
  bj::object o;
  if (legacy) o["version"] = "4";
  o["address"] = ip.address.str();
  if (ip.gateway) o["gateway"] = ip.gateway->str();
  if (ip.interface) o["interface"] = *ip.interface;
  return o;
}

bj::object RouteToJson(const Route& r) {
  bj::object o;
  o["dst"] = r.dst.str();
  if (r.gw) o["gw"] = r.gw->str();
  return o;
}

bj::object DnsToJson(const Dns& d) {
  bj::object o;
  if (!d.nameservers.empty()) o["nameservers"] = StringArray(d.nameservers);
  if (!d.domain.empty()) o["domain"] = d.domain;
  if (!d.search.empty()) o["search"] = StringArray(d.search);
  if (!d.options.empty()) o["options"] = StringArray(d.options);
  return o;
}

Result<ResultInterface> ParseInterface(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  ResultInterface i;
  i.name = BERTH_TRY(f["name"].String());
  i.mac = BERTH_TRY(f["mac"].OptString()).value_or("");
  i.sandbox = BERTH_TRY(f["sandbox"].OptString()).value_or("");
  return i;
}

// nullopt for an IPv6 entry.
Result<std::optional<ResultIp>> ParseIp(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  std::string address = BERTH_TRY(f["address"].String());
  if (address.find(':') != std::string::npos) return std::optional<ResultIp>();
  ResultIp ip;
  ip.address = BERTH_TRY(ParseIpv4Prefix(address, f["address"].path()));
  auto gw = BERTH_TRY(f["gateway"].OptString());
  if (gw && !gw->empty()) ip.gateway = BERTH_TRY(ParseIpv4(*gw, f["gateway"].path()));
  ip.interface = BERTH_TRY(f["interface"].OptInt<int>());
  return std::optional<ResultIp>(ip);
}

Result<std::optional<Route>> ParseResultRoute(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  std::string dst = BERTH_TRY(f["dst"].String());
  if (dst.find(':') != std::string::npos) return std::optional<Route>();
  Route r;
  r.dst = BERTH_TRY(ParseIpv4Prefix(dst, f["dst"].path()));
  auto gw = BERTH_TRY(f["gw"].OptString());
  if (gw && !gw->empty()) r.gw = BERTH_TRY(ParseIpv4(*gw, f["gw"].path()));
  return std::optional<Route>(r);
}

}  // namespace

bj::object ResultToJson(const CniResult& result, std::string_view cni_version) {
  bool legacy = !IsVersionAtLeast(cni_version, "1.0.0");
  bj::object o;
  o["cniVersion"] = cni_version;
  bj::array interfaces;
  for (const ResultInterface& i : result.interfaces)
    interfaces.emplace_back(InterfaceToJson(i));
  o["interfaces"] = std::move(interfaces);
  bj::array ips;
  for (const ResultIp& ip : result.ips)
    ips.emplace_back(IpToJson(ip, legacy));
  o["ips"] = std::move(ips);
  if (!result.routes.empty()) {
    bj::array routes;
    for (const Route& r : result.routes)
      routes.emplace_back(RouteToJson(r));
    o["routes"] = std::move(routes);
  }
  o["dns"] = DnsToJson(result.dns);
  return o;
}

std::string RenderResult(const CniResult& result, std::string_view cni_version) {
  return bj::serialize(ResultToJson(result, cni_version));
}

Result<CniResult> ParseResult(const bj::value& doc) {
  Field root(&doc, "prevResult");
  BERTH_TRY(root.ExpectObject());
  CniResult r;
  r.interfaces = BERTH_TRY(root["interfaces"].MapItems(ParseInterface));
  for (const Field& f : BERTH_TRY(root["ips"].Items())) {
    auto ip = BERTH_TRY(ParseIp(f));
    if (ip) r.ips.push_back(*ip);
  }
  for (const Field& f : BERTH_TRY(root["routes"].Items())) {
    auto route = BERTH_TRY(ParseResultRoute(f));
    if (route) r.routes.push_back(*route);
  }
  Field dns = root["dns"];
  BERTH_TRY(dns.ExpectObject());
  r.dns.nameservers = BERTH_TRY(dns["nameservers"].StringArray());
  r.dns.domain = BERTH_TRY(dns["domain"].OptString()).value_or("");
  r.dns.search = BERTH_TRY(dns["search"].StringArray());
  r.dns.options = BERTH_TRY(dns["options"].StringArray());
  return r;
}

std::string RenderVersionResult(std::string_view cni_version) {
  bj::object o;
  o["cniVersion"] = cni_version;
  bj::array versions;
  for (std::string_view v : kSupportedVersions)
    versions.emplace_back(v);
  o["supportedVersions"] = std::move(versions);
  return bj::serialize(o);
}

}  // namespace berth::cni::bridge
