#include "cni/bridge/ip.h"

#include <arpa/inet.h>

#include "common/strings.h"

namespace berth::cni::bridge {

uint32_t Ipv4::network_order() const {
  return htonl(value);
}

Ipv4 Ipv4::FromNetworkOrder(uint32_t be) {
  return Ipv4{ntohl(be)};
}

std::string Ipv4::str() const {
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 0xff) + "." +
         std::to_string((value >> 8) & 0xff) + "." + std::to_string(value & 0xff);
}

uint32_t PrefixMask(int length) {
  if (length <= 0) return 0;
  if (length >= 32) return 0xffffffffu;
  return ~((1u << (32 - length)) - 1);
}

Ipv4 Ipv4Prefix::network() const {
  return Ipv4{addr.value & PrefixMask(length)};
}

Ipv4 Ipv4Prefix::broadcast() const {
  return Ipv4{addr.value | ~PrefixMask(length)};
}

bool Ipv4Prefix::Contains(Ipv4 ip) const {
  return (ip.value & PrefixMask(length)) == network().value;
}

std::string Ipv4Prefix::str() const {
  return addr.str() + "/" + std::to_string(length);
}

Result<Ipv4> ParseIpv4(std::string_view text, std::string_view what) {
  // inet_pton accepts exactly the dotted quad (no octal, no short forms).
  std::string s(text);
  in_addr a{};
  if (::inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": invalid IPv4 address \"" + s + "\"");
  }
  return Ipv4::FromNetworkOrder(a.s_addr);
}

Result<Ipv4Prefix> ParseIpv4Prefix(std::string_view text, std::string_view what) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return Error(Errc::kInvalidArgument, std::string(what) + ": invalid CIDR \"" +
                                             std::string(text) + "\" (no prefix length)");
  }
  Ipv4 addr = BERTH_TRY(ParseIpv4(text.substr(0, slash), what));
  int length = BERTH_TRY(ParseInt<int>(text.substr(slash + 1), what));
  if (length < 0 || length > 32) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": prefix length " + std::to_string(length) + " out of range");
  }
  return Ipv4Prefix{addr, length};
}

}  // namespace berth::cni::bridge
