#pragma once
// IPv4 addresses and prefixes as the plugin handles them: parsed from and
// printed to the dotted-quad / CIDR strings of CNI configurations and
// results, held in host byte order so that ranges are plain integer ranges.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::cni::bridge {

struct Ipv4 {
  uint32_t value = 0;  // host byte order

  uint32_t network_order() const;
  static Ipv4 FromNetworkOrder(uint32_t be);
  std::string str() const;
  friend bool operator==(Ipv4 a, Ipv4 b) = default;
  friend auto operator<=>(Ipv4 a, Ipv4 b) = default;
};

// An address with a prefix length: "10.88.0.5/16".
struct Ipv4Prefix {
  Ipv4 addr;
  int length = 32;

  Ipv4 network() const;    // addr with the host bits cleared
  Ipv4 broadcast() const;  // addr with the host bits set
  bool Contains(Ipv4 ip) const;
  std::string str() const;  // "a.b.c.d/len", with addr as given
  friend bool operator==(const Ipv4Prefix& a, const Ipv4Prefix& b) = default;
};

uint32_t PrefixMask(int length);
// `what` names the value in errors ("ipam.gateway").
Result<Ipv4> ParseIpv4(std::string_view text, std::string_view what);
Result<Ipv4Prefix> ParseIpv4Prefix(std::string_view text, std::string_view what);

}  // namespace berth::cni::bridge
