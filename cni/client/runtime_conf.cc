#include "cni/client/runtime_conf.h"

#include <cctype>

namespace berth::cni {

namespace {

bj::array StringArray(const std::vector<std::string>& items) {
  bj::array out;
  for (const std::string& s : items)
    out.emplace_back(s);
  return out;
}

bj::object RangeJson(const IpRange& range) {
  bj::object out{{"subnet", range.subnet}};
  if (!range.range_start.empty()) out["rangeStart"] = range.range_start;
  if (!range.range_end.empty()) out["rangeEnd"] = range.range_end;
  if (!range.gateway.empty()) out["gateway"] = range.gateway;
  return out;
}

}  // namespace

bj::object CapabilityArgs::ToJson() const {
  bj::object out = extra;
  if (!port_mappings.empty()) {
    bj::array maps;
    for (const PortMapping& m : port_mappings) {
      bj::object o{
          {"hostPort", m.host_port}, {"containerPort", m.container_port}, {"protocol", m.protocol}};
      if (!m.host_ip.empty()) o["hostIP"] = m.host_ip;
      maps.emplace_back(std::move(o));
    }
    out["portMappings"] = std::move(maps);
  }
  if (bandwidth) {
    out["bandwidth"] = bj::object{{"ingressRate", bandwidth->ingress_rate},
                                  {"ingressBurst", bandwidth->ingress_burst},
                                  {"egressRate", bandwidth->egress_rate},
                                  {"egressBurst", bandwidth->egress_burst}};
  }
  if (dns) {
    out["dns"] = bj::object{{"servers", StringArray(dns->servers)},
                            {"searches", StringArray(dns->searches)},
                            {"options", StringArray(dns->options)}};
  }
  if (!ip_ranges.empty()) {
    bj::array sets;
    for (const auto& set : ip_ranges) {
      bj::array ranges;
      for (const IpRange& r : set)
        ranges.emplace_back(RangeJson(r));
      sets.emplace_back(std::move(ranges));
    }
    out["ipRanges"] = std::move(sets);
  }
  return out;
}

CniArgs PodCniArgs(std::string_view pod_namespace, std::string_view pod_name,
                   std::string_view pod_uid, std::string_view sandbox_id) {
  return {{"IgnoreUnknown", "1"},
          {"K8S_POD_NAMESPACE", std::string(pod_namespace)},
          {"K8S_POD_NAME", std::string(pod_name)},
          {"K8S_POD_INFRA_CONTAINER_ID", std::string(sandbox_id)},
          {"K8S_POD_UID", std::string(pod_uid)}};
}

Result<std::string> FormatCniArgs(const CniArgs& args) {
  std::string out;
  for (const auto& [key, value] : args) {
    if (key.empty() || key.find_first_of(";=") != std::string::npos ||
        value.find(';') != std::string::npos) {
      return Error(Errc::kInvalidArgument, "CNI_ARGS: invalid pair \"" + key + "=" + value +
                                               "\" (';' and '=' are separators)");
    }
    if (!out.empty()) out += ';';
    out += key + "=" + value;
  }
  return out;
}

Status ValidateContainerId(std::string_view id) {
  auto bad = [&] {
    return Error(Errc::kInvalidArgument,
                 "container id \"" + std::string(id) +
                     "\" must start with a letter or digit and contain only letters, digits, '_', "
                     "'.' and '-'");
  };
  if (id.empty()) return Error(Errc::kInvalidArgument, "container id must not be empty");
  for (size_t i = 0; i < id.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(id[i]);
    bool ok = std::isalnum(c) || (i > 0 && (c == '_' || c == '.' || c == '-'));
    if (!ok) return bad();
  }
  return Ok();
}

Status ValidateIfName(std::string_view ifname) {
  std::string quoted = "interface name \"" + std::string(ifname) + "\"";
  if (ifname.empty()) return Error(Errc::kInvalidArgument, "interface name must not be empty");
  if (ifname == "." || ifname == "..") return Error(Errc::kInvalidArgument, quoted + " is invalid");
  if (ifname.size() > 15) {
    return Error(Errc::kInvalidArgument, quoted + " is longer than 15 bytes");
  }
  for (char c : ifname) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) {
      return Error(Errc::kInvalidArgument, quoted + " contains '/', ':' or whitespace");
    }
  }
  return Ok();
}

}  // namespace berth::cni
