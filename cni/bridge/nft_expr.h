#pragma once
// Encoders for the nf_tables expressions the hostport rules use, written
// straight into a rule message with libmnl (no libnftnl). Each call appends
// one NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA { ... } } to the
// NFTA_RULE_EXPRESSIONS nest the writer was opened on. Numbers travel in
// network byte order, as nf_tables expects; compared data is raw bytes.
//
// See linux/netfilter/nf_tables.h for every attribute used here.

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <cstdint>
#include <string_view>

namespace berth::cni::bridge {

class NftExprWriter {
 public:
  // Opens NFTA_RULE_EXPRESSIONS on `nlh`; Close() ends it.
  explicit NftExprWriter(nlmsghdr* nlh);
  void Close();

  // reg = packet bytes [offset, offset+len) of the given header base.
  void Payload(nft_payload_bases base, uint32_t offset, uint32_t len, nft_registers dreg);
  // reg = meta key (NFT_META_L4PROTO, ...).
  void Meta(nft_meta_keys key, nft_registers dreg);
  // Verdict "break" unless reg <op> data.
  void Cmp(nft_registers sreg, nft_cmp_ops op, const void* data, uint32_t len);
  // reg = (reg & mask) ^ 0 over len bytes.
  void Mask(nft_registers reg, const void* mask, uint32_t len);
  // reg = the FIB result for the packet (here: the address type of daddr).
  void Fib(uint32_t flags, nft_fib_result result, nft_registers dreg);
  // reg = data.
  void Immediate(nft_registers dreg, const void* data, uint32_t len);
  // DNAT to the address in addr_reg and the port in proto_reg.
  void Dnat(nft_registers addr_reg, nft_registers proto_reg);
  void Masquerade();

 private:
  nlattr* Begin(std::string_view name);
  void End(nlattr* elem);
  void PutData(uint16_t type, const void* data, uint32_t len);

  nlmsghdr* nlh_;
  nlattr* list_;
  nlattr* data_ = nullptr;
};

}  // namespace berth::cni::bridge
