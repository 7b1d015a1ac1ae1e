#include "cni/bridge/hostport.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include <cstddef>

#include "cni/bridge/nft_expr.h"

namespace berth::cni::bridge {
namespace {

constexpr std::string_view kTagPrefix = "berth-cni:";
constexpr uint8_t kFamily = NFPROTO_IPV4;
const std::string kTable(kHostportTable);

const NftBaseChain kPrerouting{"prerouting", NF_INET_PRE_ROUTING, -100, "nat"};
const NftBaseChain kOutput{"output", NF_INET_LOCAL_OUT, -100, "nat"};
const NftBaseChain kPostrouting{"postrouting", NF_INET_POST_ROUTING, 100, "nat"};

// Offsets in the IPv4 header and the TCP/UDP header.
constexpr uint32_t kIpSaddr = 12;
constexpr uint32_t kIpDaddr = 16;
constexpr uint32_t kThDport = 2;

void MatchAddr(NftExprWriter& w, uint32_t offset, nft_cmp_ops op, Ipv4 ip) {
  uint32_t be = ip.network_order();
  w.Payload(NFT_PAYLOAD_NETWORK_HEADER, offset, 4, NFT_REG_1);
  w.Cmp(NFT_REG_1, op, &be, sizeof be);
}

void MatchPrefix(NftExprWriter& w, uint32_t offset, nft_cmp_ops op, const Ipv4Prefix& p) {
  uint32_t mask = htonl(PrefixMask(p.length));
  uint32_t net = p.network().network_order();
  w.Payload(NFT_PAYLOAD_NETWORK_HEADER, offset, 4, NFT_REG_1);
  w.Mask(NFT_REG_1, &mask, sizeof mask);
  w.Cmp(NFT_REG_1, op, &net, sizeof net);
}

void AddDnat(NftBatch& batch, const std::string& chain, const std::string& tag, Ipv4 pod_ip,
             const PortMapping& m) {
  NftExprWriter w(batch.AddRule(kFamily, kTable, chain, tag));
  if (m.host_ip) {
    MatchAddr(w, kIpDaddr, NFT_CMP_EQ, *m.host_ip);
  } else {
    // fib daddr type local: the fib expression leaves the address type as
    // a host-order u32.
    uint32_t local = RTN_LOCAL;
    w.Fib(NFTA_FIB_F_DADDR, NFT_FIB_RESULT_ADDRTYPE, NFT_REG_1);
    w.Cmp(NFT_REG_1, NFT_CMP_EQ, &local, sizeof local);
  }
  uint8_t proto = m.protocol == Protocol::kTcp ? IPPROTO_TCP : IPPROTO_UDP;
  w.Meta(NFT_META_L4PROTO, NFT_REG_1);
  w.Cmp(NFT_REG_1, NFT_CMP_EQ, &proto, sizeof proto);
  uint16_t host_port = htons(m.host_port);
  w.Payload(NFT_PAYLOAD_TRANSPORT_HEADER, kThDport, 2, NFT_REG_1);
  w.Cmp(NFT_REG_1, NFT_CMP_EQ, &host_port, sizeof host_port);
  uint32_t addr = pod_ip.network_order();
  uint16_t port = htons(m.container_port);
  w.Immediate(NFT_REG_1, &addr, sizeof addr);
  w.Immediate(NFT_REG_2, &port, sizeof port);
  w.Dnat(NFT_REG_1, NFT_REG_2);
  w.Close();
}

void AddHairpinMasq(NftBatch& batch, const std::string& tag, Ipv4 pod_ip) {
  NftExprWriter w(batch.AddRule(kFamily, kTable, kPostrouting.name, tag));
  MatchAddr(w, kIpSaddr, NFT_CMP_EQ, pod_ip);
  MatchAddr(w, kIpDaddr, NFT_CMP_EQ, pod_ip);
  w.Masquerade();
  w.Close();
}

void AddLocalhostMasq(NftBatch& batch, const std::string& tag, Ipv4 pod_ip) {
  NftExprWriter w(batch.AddRule(kFamily, kTable, kPostrouting.name, tag));
  MatchPrefix(w, kIpSaddr, NFT_CMP_EQ, Ipv4Prefix{Ipv4{0x7f000000}, 8});
  MatchAddr(w, kIpDaddr, NFT_CMP_EQ, pod_ip);
  w.Masquerade();
  w.Close();
}

void AddOutboundMasq(NftBatch& batch, const std::string& tag, Ipv4 pod_ip,
                     const Ipv4Prefix& subnet) {
  NftExprWriter w(batch.AddRule(kFamily, kTable, kPostrouting.name, tag));
  MatchAddr(w, kIpSaddr, NFT_CMP_EQ, pod_ip);
  MatchPrefix(w, kIpDaddr, NFT_CMP_NEQ, subnet);
  MatchPrefix(w, kIpDaddr, NFT_CMP_NEQ, Ipv4Prefix{Ipv4{0xe0000000}, 4});
  w.Masquerade();
  w.Close();
}

bool Kept(const NatOwner& owner, const std::vector<Attachment>& keep) {
  for (const Attachment& a : keep) {
    if (a.container_id == owner.container_id && (a.ifname.empty() || a.ifname == owner.ifname)) {
      return true;
    }
  }
  return false;
}

// Deletes the table's rules `doomed` selects, in one transaction.
template <class Pred>
Result<size_t> DeleteRulesWhere(NetlinkSocket& nft, Pred doomed, std::string_view what) {
  NftBatch batch(nft);
  for (const NftRule& rule : BERTH_TRY(ListNftRules(nft, kFamily, kTable))) {
    if (doomed(rule)) batch.DeleteRule(kFamily, kTable, rule.chain, rule.handle);
  }
  if (batch.size() == 0) return size_t{0};
  BERTH_TRY(batch.Commit(what));
  return batch.size();
}

}  // namespace

std::string NatOwner::Tag() const {
  return std::string(kTagPrefix) + network + "/" + container_id + "/" + ifname;
}

std::optional<NatOwner> NatOwner::FromTag(std::string_view comment) {
  if (comment.substr(0, kTagPrefix.size()) != kTagPrefix) return std::nullopt;
  comment.remove_prefix(kTagPrefix.size());
  size_t a = comment.find('/');
  size_t b = a == std::string_view::npos ? a : comment.find('/', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  return NatOwner{std::string(comment.substr(0, a)), std::string(comment.substr(a + 1, b - a - 1)),
                  std::string(comment.substr(b + 1))};
}

size_t ExpectedRuleCount(const PodNat& nat) {
  size_t n = 2 * nat.port_mappings.size();
  if (!nat.port_mappings.empty()) n += 2;
  if (nat.masquerade_subnet) n += 1;
  return n;
}

Status AddPodNat(NetlinkSocket& nft, const NatOwner& owner, const PodNat& nat) {
  std::string tag = owner.Tag();
  if (tag.size() > 254) {
    return Error(Errc::kInvalidArgument, "rule tag \"" + tag + "\" longer than 254 bytes");
  }
  NftBatch batch(nft);
  batch.AddTable(kFamily, kTable);
  for (const NftBaseChain* chain : {&kPrerouting, &kOutput, &kPostrouting})
    batch.AddChain(kFamily, kTable, *chain);
  for (const PortMapping& m : nat.port_mappings) {
    AddDnat(batch, kPrerouting.name, tag, nat.pod_ip, m);
    AddDnat(batch, kOutput.name, tag, nat.pod_ip, m);
  }
  if (!nat.port_mappings.empty()) {
    AddHairpinMasq(batch, tag, nat.pod_ip);
    AddLocalhostMasq(batch, tag, nat.pod_ip);
  }
  if (nat.masquerade_subnet) AddOutboundMasq(batch, tag, nat.pod_ip, *nat.masquerade_subnet);
  return batch.Commit("add rules of " + tag);
}

Result<size_t> DeletePodNat(NetlinkSocket& nft, const NatOwner& owner) {
  std::string tag = owner.Tag();
  return DeleteRulesWhere(
      nft, [&](const NftRule& r) { return r.comment == tag; }, "delete rules of " + tag);
}

Result<std::vector<NftRule>> ListHostportRules(NetlinkSocket& nft) {
  return ListNftRules(nft, kFamily, kTable);
}

Result<size_t> CountPodNat(NetlinkSocket& nft, const NatOwner& owner) {
  std::string tag = owner.Tag();
  size_t n = 0;
  for (const NftRule& rule : BERTH_TRY(ListNftRules(nft, kFamily, kTable)))
    n += rule.comment == tag;
  return n;
}

Result<size_t> DeleteNatExcept(NetlinkSocket& nft, const std::string& network,
                               const std::vector<Attachment>& keep) {
  return DeleteRulesWhere(
      nft,
      [&](const NftRule& r) {
        auto owner = NatOwner::FromTag(r.comment);
        return owner && owner->network == network && !Kept(*owner, keep);
      },
      "garbage-collect rules of network " + network);
}

}  // namespace berth::cni::bridge
