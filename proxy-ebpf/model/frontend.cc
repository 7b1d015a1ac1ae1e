// Text forms of the model's value types: addresses through inet_pton and
// inet_ntop (so every notation the kernel and Go accept round-trips), and
// the names logs and errors use for protocols and frontend kinds.

#include "proxy-ebpf/model/frontend.h"

#include <arpa/inet.h>

namespace berth::proxy {

Result<IpAddress> IpAddress::Parse(std::string_view text, std::string_view what) {
  std::string z(text);  // inet_pton needs a NUL-terminated string
  IpAddress out;
  if (inet_pton(AF_INET, z.c_str(), out.bytes.data()) == 1) return out;
  out.v6 = true;
  if (inet_pton(AF_INET6, z.c_str(), out.bytes.data()) == 1) return out;
  return Error(Errc::kInvalidArgument, std::string(what) + ": \"" + z + "\" is not an IP address");
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf)) == nullptr) return "?";
  return buf;
}

std::string_view L4Name(L4Protocol protocol) {
  switch (protocol) {
    case L4Protocol::kTcp:
      return "TCP";
    case L4Protocol::kUdp:
      return "UDP";
  }
  return "?";
}

std::string_view FrontendKindName(FrontendKind kind) {
  switch (kind) {
    case FrontendKind::kClusterIp:
      return "ClusterIP";
    case FrontendKind::kNodePort:
      return "NodePort";
    case FrontendKind::kExternalIp:
      return "ExternalIP";
    case FrontendKind::kLoadBalancer:
      return "LoadBalancer";
  }
  return "?";
}

}  // namespace berth::proxy
