#include "cni/bridge/nft_expr.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>

#include <string>

namespace berth::cni::bridge {
namespace {

void PutBe32(nlmsghdr* nlh, uint16_t type, uint32_t value) {
  mnl_attr_put_u32(nlh, type, htonl(value));
}

}  // namespace

NftExprWriter::NftExprWriter(nlmsghdr* nlh)
    : nlh_(nlh), list_(mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS)) {}

void NftExprWriter::Close() {
  mnl_attr_nest_end(nlh_, list_);
}

nlattr* NftExprWriter::Begin(std::string_view name) {
  nlattr* elem = mnl_attr_nest_start(nlh_, NFTA_LIST_ELEM);
  mnl_attr_put_strz(nlh_, NFTA_EXPR_NAME, std::string(name).c_str());
  data_ = mnl_attr_nest_start(nlh_, NFTA_EXPR_DATA);
  return elem;
}

void NftExprWriter::End(nlattr* elem) {
  mnl_attr_nest_end(nlh_, data_);
  mnl_attr_nest_end(nlh_, elem);
  data_ = nullptr;
}

// A nested nft_data_attributes { NFTA_DATA_VALUE } under `type`.
void NftExprWriter::PutData(uint16_t type, const void* data, uint32_t len) {
  nlattr* nest = mnl_attr_nest_start(nlh_, type);
  mnl_attr_put(nlh_, NFTA_DATA_VALUE, len, data);
  mnl_attr_nest_end(nlh_, nest);
}

void NftExprWriter::Payload(nft_payload_bases base, uint32_t offset, uint32_t len,
                            nft_registers dreg) {
  nlattr* e = Begin("payload");
  PutBe32(nlh_, NFTA_PAYLOAD_DREG, dreg);
  PutBe32(nlh_, NFTA_PAYLOAD_BASE, base);
  PutBe32(nlh_, NFTA_PAYLOAD_OFFSET, offset);
  PutBe32(nlh_, NFTA_PAYLOAD_LEN, len);
  End(e);
}

void NftExprWriter::Meta(nft_meta_keys key, nft_registers dreg) {
  nlattr* e = Begin("meta");
  PutBe32(nlh_, NFTA_META_KEY, key);
  PutBe32(nlh_, NFTA_META_DREG, dreg);
  End(e);
}

void NftExprWriter::Cmp(nft_registers sreg, nft_cmp_ops op, const void* data, uint32_t len) {
  nlattr* e = Begin("cmp");
  PutBe32(nlh_, NFTA_CMP_SREG, sreg);
  PutBe32(nlh_, NFTA_CMP_OP, op);
  PutData(NFTA_CMP_DATA, data, len);
  End(e);
}

void NftExprWriter::Mask(nft_registers reg, const void* mask, uint32_t len) {
  nlattr* e = Begin("bitwise");
  PutBe32(nlh_, NFTA_BITWISE_SREG, reg);
  PutBe32(nlh_, NFTA_BITWISE_DREG, reg);
  PutBe32(nlh_, NFTA_BITWISE_LEN, len);
  PutData(NFTA_BITWISE_MASK, mask, len);
  const uint8_t zeros[16] = {};
  PutData(NFTA_BITWISE_XOR, zeros, len);
  End(e);
}

void NftExprWriter::Fib(uint32_t flags, nft_fib_result result, nft_registers dreg) {
  nlattr* e = Begin("fib");
  PutBe32(nlh_, NFTA_FIB_DREG, dreg);
  PutBe32(nlh_, NFTA_FIB_RESULT, result);
  PutBe32(nlh_, NFTA_FIB_FLAGS, flags);
  End(e);
}

void NftExprWriter::Immediate(nft_registers dreg, const void* data, uint32_t len) {
  nlattr* e = Begin("immediate");
  PutBe32(nlh_, NFTA_IMMEDIATE_DREG, dreg);
  PutData(NFTA_IMMEDIATE_DATA, data, len);
  End(e);
}

void NftExprWriter::Dnat(nft_registers addr_reg, nft_registers proto_reg) {
  nlattr* e = Begin("nat");
  PutBe32(nlh_, NFTA_NAT_TYPE, NFT_NAT_DNAT);
  PutBe32(nlh_, NFTA_NAT_FAMILY, NFPROTO_IPV4);
  PutBe32(nlh_, NFTA_NAT_REG_ADDR_MIN, addr_reg);
  PutBe32(nlh_, NFTA_NAT_REG_PROTO_MIN, proto_reg);
  End(e);
}

void NftExprWriter::Masquerade() {
  nlattr* e = Begin("masq");
  End(e);
}

}  // namespace berth::cni::bridge
