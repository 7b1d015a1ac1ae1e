#include "agent/node/node_addresses.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/file.h"
#include "common/strings.h"

namespace berth::agent {
namespace {

// An address as text and whether it may be a node IP.
struct Address {
  int family = 0;
  std::string text;
};

bool Usable(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
    bool loopback = (a >> 24) == 127;
    bool link_local = (a >> 16) == 0xa9fe;  // 169.254/16
    bool multicast = (a >> 28) == 0xe;
    return a != 0 && !loopback && !link_local && !multicast;
  }
  if (sa->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    return !IN6_IS_ADDR_UNSPECIFIED(&a) && !IN6_IS_ADDR_LOOPBACK(&a) &&
           !IN6_IS_ADDR_LINKLOCAL(&a) && !IN6_IS_ADDR_MULTICAST(&a);
  }
  return false;
}

std::string Text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// Usable addresses per interface name, in the kernel's order.
std::vector<std::pair<std::string, Address>> LocalAddresses() {
  std::vector<std::pair<std::string, Address>> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0 || !Usable(i->ifa_addr)) continue;
    out.push_back({i->ifa_name, {i->ifa_addr->sa_family, Text(i->ifa_addr)}});
  }
  freeifaddrs(list);
  return out;
}

std::optional<std::string> FromDns(const std::string& name) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &list) != 0) return std::nullopt;
  std::vector<std::pair<std::string, Address>> local = LocalAddresses();
  auto is_local = [&](const std::string& text) {
    return std::any_of(local.begin(), local.end(),
                       [&](const auto& l) { return l.second.text == text; });
  };
  std::optional<std::string> v4, v6;
  for (addrinfo* a = list; a != nullptr; a = a->ai_next) {
    if (!Usable(a->ai_addr) || !is_local(Text(a->ai_addr))) continue;
    if (a->ai_family == AF_INET && !v4) v4 = Text(a->ai_addr);
    if (a->ai_family == AF_INET6 && !v6) v6 = Text(a->ai_addr);
  }
  freeaddrinfo(list);
  return v4 ? v4 : v6;
}

// Interfaces holding a default route, from /proc/net/route (IPv4) or
// /proc/net/ipv6_route.
std::vector<std::string> DefaultRouteInterfaces(const std::string& proc, int family) {
  std::vector<std::string> out;
  if (family == AF_INET) {
    Result<std::string> text = ReadFile(PathJoin(proc, "net/route"));
    if (!text.ok()) return out;
    // Iface Destination Gateway Flags ...; the default route's destination is 0.
    for (const std::string& line : Split(*text, '\n')) {
      std::vector<std::string> f = SplitNonEmpty(line, '\t');
      if (f.size() < 4 || f[1] != "00000000") continue;
      Result<unsigned> flags = ParseInt<unsigned>(f[3], "flags", 16);
      if (flags.ok() && (*flags & 0x1) != 0) out.push_back(f[0]);  // RTF_UP
    }
  } else {
    Result<std::string> text = ReadFile(PathJoin(proc, "net/ipv6_route"));
    if (!text.ok()) return out;
    // dest dest_len src src_len next_hop metric refcnt use flags iface
    for (const std::string& line : Split(*text, '\n')) {
      std::vector<std::string> f = SplitNonEmpty(line, ' ');
      if (f.size() < 10 || f[0] != std::string(32, '0') || f[1] != "00") continue;
      if (f[9] == "lo") continue;
      out.push_back(f[9]);
    }
  }
  return out;
}

}  // namespace

Result<std::string> NodeHostname(const std::string& hostname_override) {
  std::string name = hostname_override;
  if (name.empty()) {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return Error::Sys("gethostname");
    name = buf;
  }
  name = std::string(Trim(name));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.empty()) return Error(Errc::kInvalidArgument, "empty hostname is invalid");
  return name;
}

Result<std::vector<std::string>> ParseNodeIps(const std::vector<std::string>& ips) {
  if (ips.size() > 2) {
    return Error(Errc::kInvalidArgument,
                 "--node-ip: at most two IPs (one per family), got " + std::to_string(ips.size()));
  }
  std::vector<std::string> out;
  int families[2] = {0, 0};
  for (size_t i = 0; i < ips.size(); ++i) {
    std::string ip(Trim(ips[i]));
    unsigned char buf[sizeof(in6_addr)] = {};
    int family = inet_pton(AF_INET, ip.c_str(), buf) == 1    ? AF_INET
                 : inet_pton(AF_INET6, ip.c_str(), buf) == 1 ? AF_INET6
                                                             : 0;
    if (family == 0) {
      return Error(Errc::kInvalidArgument, "--node-ip: \"" + ip + "\" is not an IP address");
    }
    if (std::all_of(buf, buf + (family == AF_INET ? 4 : 16),
                    [](unsigned char b) { return b == 0; })) {
      return Error(Errc::kInvalidArgument,
                   "--node-ip: the unspecified address " + ip + " cannot be a node IP");
    }
    families[i] = family;
    char canonical[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, buf, canonical, sizeof canonical);
    out.emplace_back(canonical);
  }
  if (out.size() == 2 && families[0] == families[1]) {
    return Error(Errc::kInvalidArgument,
                 "--node-ip: two IPs must be one IPv4 and one IPv6 (dual-stack)");
  }
  return out;
}

Result<std::string> DefaultNodeIp(const std::string& node_name, const std::string& proc) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, node_name.c_str(), buf) == 1 ||
      inet_pton(AF_INET6, node_name.c_str(), buf) == 1) {
    return node_name;
  }
  if (std::optional<std::string> ip = FromDns(node_name)) return *ip;
  std::vector<std::pair<std::string, Address>> local = LocalAddresses();
  for (int family : {AF_INET, AF_INET6}) {
    for (const std::string& iface : DefaultRouteInterfaces(proc, family)) {
      for (const auto& [name, address] : local) {
        if (name == iface && address.family == family) return address.text;
      }
    }
  }
  return Error(Errc::kNotFound, "can't get ip address of node " + node_name +
                                    ": its name does not resolve to a local address and no "
                                    "interface holds a default route; set --node-ip");
}

}  // namespace berth::agent
