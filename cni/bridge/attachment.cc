// Naming and NAT shape shared by the verbs (declared in commands.h).

#include <cstdint>
#include <cstdio>

#include "cni/bridge/commands.h"

namespace berth::cni::bridge {

std::string HostVethName(const std::string& network, const std::string& container_id,
                         const std::string& ifname) {
  // FNV-1a, 32 bits: stable across builds and machines.
  uint32_t h = 2166136261u;
  for (const std::string* part : {&network, &container_id, &ifname}) {
    for (unsigned char ch : *part) {
      h ^= ch;
      h *= 16777619u;
    }
    h ^= 0xff;  // separator, so ("ab","c") and ("a","bc") differ
    h *= 16777619u;
  }
  char name[16];
  std::snprintf(name, sizeof name, "veth%08x", h);
  return name;
}

NatOwner OwnerOf(const Invocation& inv) {
  return NatOwner{inv.conf.name, inv.env.container_id, inv.env.ifname};
}

PodNat PodNatOf(const NetConf& conf, Ipv4 pod_ip) {
  PodNat nat;
  nat.pod_ip = pod_ip;
  nat.port_mappings = conf.port_mappings;
  if (conf.ip_masq) nat.masquerade_subnet = conf.ipam.subnet;
  return nat;
}

}  // namespace berth::cni::bridge
