#pragma once
// Port mappings (runtimeConfig.portMappings) and masquerading as nf_tables
// rules in one table of the plugin's netns, `ip berth-cni-hostport`:
//
//   chain prerouting  { type nat hook prerouting priority -100; }  DNAT for traffic arriving
//   chain output      { type nat hook output priority -100; }      DNAT for local traffic
//   chain postrouting { type nat hook postrouting priority 100; }  hairpin/localhost/ipMasq SNAT
//
// Every rule carries a comment naming its owner,
// "berth-cni:<network>/<container id>/<ifname>", so DEL removes exactly that
// attachment's rules and GC can find the rules of attachments that are gone.
// Per mapping (tcp or udp):
//   prerouting/output: fib daddr type local (or ip daddr <hostIP>)
//                      meta l4proto <p> th dport <hostPort> dnat to <podIP>:<containerPort>
// Per pod with mappings:
//   postrouting: ip saddr <podIP> ip daddr <podIP> masquerade         (hairpin)
//                ip saddr 127.0.0.0/8 ip daddr <podIP> masquerade      (hostPort via 127.0.0.1)
// Per pod with ipMasq:
//   postrouting: ip saddr <podIP> ip daddr != <subnet> ip daddr != 224.0.0.0/4 masquerade

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/bridge/config.h"
#include "cni/bridge/ip.h"
#include "cni/bridge/netlink_socket.h"
#include "cni/bridge/nft_batch.h"
#include "common/error.h"

namespace berth::cni::bridge {

inline constexpr std::string_view kHostportTable = "berth-cni-hostport";

struct NatOwner {
  std::string network;
  std::string container_id;
  std::string ifname;

  std::string Tag() const;
  // nullopt for a comment that is not one of ours.
  static std::optional<NatOwner> FromTag(std::string_view comment);
};

struct PodNat {
  Ipv4 pod_ip;
  std::vector<PortMapping> port_mappings;
  std::optional<Ipv4Prefix> masquerade_subnet;  // set when ipMasq is on
  bool empty() const { return port_mappings.empty() && !masquerade_subnet; }
};

// Adds the pod's rules (creating the table and chains if needed) in one
// transaction. `nft` is a NETLINK_NETFILTER socket.
Status AddPodNat(NetlinkSocket& nft, const NatOwner& owner, const PodNat& nat);
// Removes every rule of `owner`; returns how many. No table, no rules: 0.
Result<size_t> DeletePodNat(NetlinkSocket& nft, const NatOwner& owner);
// How many rules `owner` has.
Result<size_t> CountPodNat(NetlinkSocket& nft, const NatOwner& owner);
// Every rule in the table, whoever owns it.
Result<std::vector<NftRule>> ListHostportRules(NetlinkSocket& nft);
// GC: removes the rules of `network` whose owner is not in `keep`.
Result<size_t> DeleteNatExcept(NetlinkSocket& nft, const std::string& network,
                               const std::vector<Attachment>& keep);
// The number of rules AddPodNat creates for `nat`.
size_t ExpectedRuleCount(const PodNat& nat);

}  // namespace berth::cni::bridge
