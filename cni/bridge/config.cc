#include "cni/bridge/config.h"

#include <cctype>

#include "common/json.h"

namespace berth::cni::bridge {
namespace {

using json::Field;

Result<std::optional<Ipv4>> OptIpv4(const Field& f) {
  auto text = BERTH_TRY(f.OptString());
  if (!text || text->empty()) return std::optional<Ipv4>();
  return std::optional<Ipv4>(BERTH_TRY(ParseIpv4(*text, f.path())));
}

Result<Route> ParseRoute(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  Route r;
  r.dst = BERTH_TRY(ParseIpv4Prefix(BERTH_TRY(f["dst"].String()), f["dst"].path()));
  r.dst.addr = r.dst.network();
  r.gw = BERTH_TRY(OptIpv4(f["gw"]));
  return r;
}

Result<Dns> ParseDns(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  Dns d;
  d.nameservers = BERTH_TRY(f["nameservers"].StringArray());
  d.domain = BERTH_TRY(f["domain"].OptString()).value_or("");
  d.search = BERTH_TRY(f["search"].StringArray());
  d.options = BERTH_TRY(f["options"].StringArray());
  return d;
}

// host-local's "ranges": [[{subnet, rangeStart, rangeEnd, gateway}]]. Only
// one IPv4 range is supported; it is read as if its keys were in ipam.
Result<Field> SingleRange(const Field& ipam) {
  auto sets = BERTH_TRY(ipam["ranges"].Items());
  if (sets.empty()) return ipam;
  if (sets.size() > 1) return ipam["ranges"].Invalid("only one range set is supported");
  auto ranges = BERTH_TRY(sets[0].Items());
  if (ranges.size() != 1) return sets[0].Invalid("exactly one IPv4 range is supported");
  if (ipam["subnet"].present()) return ipam.Invalid("give either subnet or ranges, not both");
  return ranges[0];
}

Status CheckInSubnet(const Ipv4Prefix& subnet, Ipv4 ip, const Field& f) {
  if (!subnet.Contains(ip)) return f.Invalid(ip.str() + " is outside subnet " + subnet.str());
  if (ip == subnet.network() || ip == subnet.broadcast()) {
    return f.Invalid(ip.str() + " is the network or broadcast address of " + subnet.str());
  }
  return Ok();
}

Result<IpamConfig> ParseIpam(const Field& ipam) {
  if (!ipam.present()) return ipam.Invalid("required field missing");
  BERTH_TRY(ipam.ExpectObject());
  auto type = BERTH_TRY(ipam["type"].OptString()).value_or("");
  if (!type.empty() && type != "host-local" && type != "berth-cni-bridge") {
    return ipam["type"].Invalid("IPAM is built in; \"" + type +
                                "\" is not supported (omit ipam.type or use \"host-local\")");
  }
  Field range = BERTH_TRY(SingleRange(ipam));
  IpamConfig c;
  c.subnet =
      BERTH_TRY(ParseIpv4Prefix(BERTH_TRY(range["subnet"].String()), range["subnet"].path()));
  c.subnet.addr = c.subnet.network();
  if (c.subnet.length > 30) return range["subnet"].Invalid("subnet too small (need /30 or larger)");
  c.gateway = BERTH_TRY(OptIpv4(range["gateway"])).value_or(Ipv4{c.subnet.network().value + 1});
  BERTH_TRY(CheckInSubnet(c.subnet, c.gateway, range["gateway"]));
  c.range_start =
      BERTH_TRY(OptIpv4(range["rangeStart"])).value_or(Ipv4{c.subnet.network().value + 1});
  c.range_end =
      BERTH_TRY(OptIpv4(range["rangeEnd"])).value_or(Ipv4{c.subnet.broadcast().value - 1});
  BERTH_TRY(CheckInSubnet(c.subnet, c.range_start, range["rangeStart"]));
  BERTH_TRY(CheckInSubnet(c.subnet, c.range_end, range["rangeEnd"]));
  if (c.range_end < c.range_start) return range["rangeEnd"].Invalid("is before rangeStart");
  auto dir = BERTH_TRY(ipam["dataDir"].OptString());
  if (dir) {
    if (dir->empty() || (*dir)[0] != '/')
      return ipam["dataDir"].Invalid("must be an absolute path");
    c.data_dir = *dir;
  }
  c.routes = BERTH_TRY(ipam["routes"].MapItems(ParseRoute));
  return c;
}

Result<Protocol> ParseProtocol(const Field& f) {
  std::string p = BERTH_TRY(f.OptString()).value_or("tcp");
  for (char& ch : p)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (p == "tcp") return Protocol::kTcp;
  if (p == "udp") return Protocol::kUdp;
  return f.Invalid("unsupported protocol \"" + p + "\" (tcp or udp)");
}

Result<uint16_t> ParsePort(const Field& f) {
  auto port = BERTH_TRY(f.Int<uint16_t>());
  if (port == 0) return f.Invalid("port 0 is not allowed");
  return port;
}

// Returns nullopt for a mapping that does not apply to IPv4 (an IPv6
// hostIP), which is skipped as the reference portmap plugin skips
// mappings of the other family.
Result<std::optional<PortMapping>> ParsePortMapping(const Field& f) {
  BERTH_TRY(f.ExpectObject());
  PortMapping m;
  m.host_port = BERTH_TRY(ParsePort(f["hostPort"]));
  m.container_port = BERTH_TRY(ParsePort(f["containerPort"]));
  m.protocol = BERTH_TRY(ParseProtocol(f["protocol"]));
  auto host_ip = BERTH_TRY(f["hostIP"].OptString()).value_or("");
  if (host_ip.find(':') != std::string::npos) return std::optional<PortMapping>();
  if (!host_ip.empty() && host_ip != "0.0.0.0") {
    m.host_ip = BERTH_TRY(ParseIpv4(host_ip, f["hostIP"].path()));
  }
  return std::optional<PortMapping>(m);
}

Result<std::vector<PortMapping>> ParsePortMappings(const Field& f) {
  std::vector<PortMapping> out;
  for (const Field& item : BERTH_TRY(f.Items())) {
    auto m = BERTH_TRY(ParsePortMapping(item));
    if (m) out.push_back(*m);
  }
  return out;
}

Result<std::vector<Attachment>> ParseAttachments(const Field& f) {
  std::vector<Attachment> out;
  for (const Field& item : BERTH_TRY(f.Items())) {
    BERTH_TRY(item.ExpectObject());
    Attachment a;
    a.container_id = BERTH_TRY(item["containerID"].String());
    a.ifname = BERTH_TRY(item["ifname"].OptString()).value_or("");
    out.push_back(std::move(a));
  }
  return out;
}

Status ParseTopLevel(const Field& root, NetConf& c) {
  c.cni_version = BERTH_TRY(root["cniVersion"].String());
  c.name = BERTH_TRY(root["name"].String());
  BERTH_TRY(ValidateIdentifier(c.name, "name"));
  c.type = BERTH_TRY(root["type"].OptString()).value_or("");
  c.bridge = BERTH_TRY(root["bridge"].OptString()).value_or(std::string(kDefaultBridge));
  BERTH_TRY(ValidateIfName(c.bridge, "bridge"));
  c.mtu = BERTH_TRY(root["mtu"].OptInt<int>()).value_or(0);
  if (c.mtu != 0 && (c.mtu < 68 || c.mtu > 65535)) {
    return root["mtu"].Invalid("must be between 68 and 65535");
  }
  c.hairpin_mode = BERTH_TRY(root["hairpinMode"].Bool(false));
  c.is_default_gateway = BERTH_TRY(root["isDefaultGateway"].Bool(false));
  c.is_gateway = BERTH_TRY(root["isGateway"].Bool(false)) || c.is_default_gateway;
  c.ip_masq = BERTH_TRY(root["ipMasq"].Bool(false));
  return Ok();
}

}  // namespace

std::string_view ProtocolName(Protocol p) {
  return p == Protocol::kTcp ? "tcp" : "udp";
}

std::vector<Route> NetConf::PodRoutes() const {
  std::vector<Route> routes = ipam.routes;
  if (!is_default_gateway) return routes;
  for (Route& r : routes) {
    if (r.dst.length == 0) {
      if (!r.gw) r.gw = ipam.gateway;
      return routes;
    }
  }
  routes.push_back(Route{Ipv4Prefix{Ipv4{0}, 0}, ipam.gateway});
  return routes;
}

Result<NetConf> ParseNetConf(const boost::json::value& doc) {
  if (!doc.is_object())
    return Error(Errc::kInvalidArgument, "network configuration: expected object");
  Field root(&doc, "");
  NetConf c;
  BERTH_TRY(ParseTopLevel(root, c));
  c.ipam = BERTH_TRY(ParseIpam(root["ipam"]));
  if (root["dns"].present()) c.dns = BERTH_TRY(ParseDns(root["dns"]));
  BERTH_TRY(root["runtimeConfig"].ExpectObject());
  c.port_mappings = BERTH_TRY(ParsePortMappings(root["runtimeConfig"]["portMappings"]));
  if (root["prevResult"].present()) {
    BERTH_TRY(root["prevResult"].ExpectObject());
    c.prev_result = *root["prevResult"].raw();
  }
  // CNI 1.1 names the key cni.dev/valid-attachments; libcni also sends the
  // name an earlier draft used, cni.dev/attachments.
  Field valid = root["cni.dev/valid-attachments"];
  if (!valid.present()) valid = root["cni.dev/attachments"];
  c.valid_attachments = BERTH_TRY(ParseAttachments(valid));
  return c;
}

Result<NetConf> ParseNetConfText(std::string_view text) {
  auto doc = BERTH_TRY(json::Parse(text, "network configuration"));
  return ParseNetConf(doc);
}

Status ValidateIfName(std::string_view name, std::string_view what) {
  auto bad = [&](const std::string& why) {
    return Error(Errc::kInvalidArgument, std::string(what) + ": invalid interface name \"" +
                                             std::string(name) + "\": " + why);
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 15) return bad("longer than 15 bytes");
  if (name == "." || name == "..") return bad("reserved name");
  for (char ch : name) {
    if (ch == '/' || ch == ':' || std::isspace(static_cast<unsigned char>(ch))) {
      return bad("contains '/', ':' or whitespace");
    }
  }
  return Ok();
}

Status ValidateIdentifier(std::string_view id, std::string_view what) {
  bool ok = !id.empty() && std::isalnum(static_cast<unsigned char>(id[0]));
  for (char ch : id) {
    ok =
        ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-');
  }
  if (!ok) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": \"" + std::string(id) +
                     "\" must start with a letter or digit and contain only letters, digits, "
                     "'_', '.' and '-'");
  }
  return Ok();
}

}  // namespace berth::cni::bridge
