#include "cni/bridge/nft_batch.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <thread>

namespace berth::cni::bridge {
namespace {

constexpr size_t kMaxMessage = 4096;  // room kept free for the message being built
constexpr uint8_t kUdataComment = 0;

uint16_t NftType(int msg) {
  return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg);
}

NftRule ParseRule(const nlmsghdr* nlh) {
  NftRule rule;
  ForEachAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
    switch (mnl_attr_get_type(attr)) {
      case NFTA_RULE_CHAIN:
        if (mnl_attr_validate(attr, MNL_TYPE_STRING) == 0) rule.chain = mnl_attr_get_str(attr);
        break;
      case NFTA_RULE_HANDLE:
        if (mnl_attr_validate(attr, MNL_TYPE_U64) == 0)
          rule.handle = be64toh(mnl_attr_get_u64(attr));
        break;
      case NFTA_RULE_USERDATA:
        rule.comment = DecodeRuleComment(std::string_view(
            static_cast<const char*>(mnl_attr_get_payload(attr)), mnl_attr_get_payload_len(attr)));
        break;
      default:
        break;
    }
  });
  return rule;
}

// The ruleset generation (NFT_MSG_GETGEN): every commit bumps it.
Result<uint32_t> NftGeneration(NetlinkSocket& sock) {
  NlMessage msg(NftType(NFT_MSG_GETGEN), 0);
  auto* gen = msg.PutHeader<nfgenmsg>();
  gen->nfgen_family = AF_UNSPEC;
  gen->version = NFNETLINK_V0;
  std::optional<uint32_t> id;
  BERTH_TRY(sock.Request(msg, "NFT_MSG_GETGEN", "ruleset", [&](const nlmsghdr* nlh) -> Status {
    ForEachAttr(nlh, sizeof(nfgenmsg), [&](const nlattr* attr) {
      if (mnl_attr_get_type(attr) == NFTA_GEN_ID && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        id = ntohl(mnl_attr_get_u32(attr));
    });
    return Ok();
  }));
  if (!id) return Error(Errc::kInternal, "NFT_MSG_GETGEN: the reply has no NFTA_GEN_ID");
  return *id;
}

}  // namespace

NftBatch::NftBatch(NetlinkSocket& sock) : sock_(sock), buf_(64 * 1024) {
  Put(NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
}

void NftBatch::Finish() {
  if (current_ != nullptr) used_ += MNL_ALIGN(current_->nlmsg_len);
  current_ = nullptr;
}

nlmsghdr* NftBatch::Put(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
  Finish();
  if (buf_.size() - used_ < kMaxMessage) buf_.resize(buf_.size() * 2);
  current_ = mnl_nlmsg_put_header(buf_.data() + used_);
  current_->nlmsg_type = type;
  current_->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  current_->nlmsg_seq = sock_.NextSeq();
  auto* gen = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(current_, sizeof(nfgenmsg)));
  gen->nfgen_family = family;
  gen->version = NFNETLINK_V0;
  gen->res_id = htons(res_id);
  return current_;
}

void NftBatch::AddTable(uint8_t family, const std::string& table) {
  nlmsghdr* nlh = Put(NftType(NFT_MSG_NEWTABLE), NLM_F_CREATE | NLM_F_ACK, family, 0);
  mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table.c_str());
  ++messages_;
}

void NftBatch::AddChain(uint8_t family, const std::string& table, const NftBaseChain& chain) {
  nlmsghdr* nlh = Put(NftType(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK, family, 0);
  mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table.c_str());
  mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, chain.name.c_str());
  nlattr* hook = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
  mnl_attr_put_u32(nlh, NFTA_HOOK_HOOKNUM, htonl(chain.hook));
  mnl_attr_put_u32(nlh, NFTA_HOOK_PRIORITY, htonl(static_cast<uint32_t>(chain.priority)));
  mnl_attr_nest_end(nlh, hook);
  mnl_attr_put_strz(nlh, NFTA_CHAIN_TYPE, chain.type.c_str());
  mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl(NF_ACCEPT));
  ++messages_;
}

nlmsghdr* NftBatch::AddRule(uint8_t family, const std::string& table, const std::string& chain,
                            std::string_view comment) {
  nlmsghdr* nlh = Put(NftType(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, family, 0);
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table.c_str());
  mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain.c_str());
  if (!comment.empty()) {
    std::string udata = EncodeRuleComment(comment);
    mnl_attr_put(nlh, NFTA_RULE_USERDATA, udata.size(), udata.data());
  }
  ++messages_;
  return nlh;
}

void NftBatch::DeleteRule(uint8_t family, const std::string& table, const std::string& chain,
                          uint64_t handle) {
  nlmsghdr* nlh = Put(NftType(NFT_MSG_DELRULE), NLM_F_ACK, family, 0);
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table.c_str());
  mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain.c_str());
  mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(handle));
  ++messages_;
}

Status NftBatch::Commit(std::string_view what) {
  Put(NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  Finish();
  std::vector<char> wire(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(used_));
  return sock_.SendBatch(wire, messages_, what);
}

Result<std::vector<NftRule>> ListNftRules(NetlinkSocket& sock, uint8_t family,
                                          const std::string& table) {
  // A rule dump resumes by position between its netlink reads, so a
  // change between two reads shifts the rules under it. A commit bumps the
  // generation (and the kernel flags the dump NLM_F_DUMP_INTR, which Dump
  // retries, though not when no rule message follows the change): the
  // generation read before and after catches it. A transaction still in
  // progress in another process inserts its new rules into the lists
  // before it commits, with no generation change: the rule at the resume
  // point is then sent twice. Rules are unique by handle, so the second
  // copy is dropped.
  constexpr int kAttempts = 50;
  for (int attempt = 1;; ++attempt) {
    uint32_t before = BERTH_TRY(NftGeneration(sock));
    NlMessage msg(NftType(NFT_MSG_GETRULE), 0);
    auto* gen = msg.PutHeader<nfgenmsg>();
    gen->nfgen_family = family;
    gen->version = NFNETLINK_V0;
    mnl_attr_put_strz(msg.nlh(), NFTA_RULE_TABLE, table.c_str());
    std::vector<NftRule> rules;
    Status st = sock.Dump(
        msg,
        [&](const nlmsghdr* nlh) -> Status {
          if (nlh->nlmsg_type == NftType(NFT_MSG_NEWRULE)) rules.push_back(ParseRule(nlh));
          return Ok();
        },
        "NFT_MSG_GETRULE", "table " + table);
    if (!st.ok() && st.error().sys_errno() != ENOENT) return std::move(st).error();
    if (!st.ok()) rules.clear();  // no such table: no rules
    if (BERTH_TRY(NftGeneration(sock)) == before) {
      std::set<uint64_t> seen;
      std::erase_if(rules, [&](const NftRule& r) { return !seen.insert(r.handle).second; });
      return rules;
    }
    if (attempt == kAttempts)
      return Error(Errc::kAborted, "NFT_MSG_GETRULE table " + table + ": the ruleset changed " +
                                       "during " + std::to_string(kAttempts) + " dumps in a row");
    std::this_thread::sleep_for(std::chrono::microseconds(100 * std::min(attempt, 20)));
  }
}

std::string EncodeRuleComment(std::string_view comment) {
  std::string value(comment.substr(0, 254));
  value.push_back('\0');
  std::string out;
  out.push_back(static_cast<char>(kUdataComment));
  out.push_back(static_cast<char>(value.size()));
  out += value;
  return out;
}

std::string DecodeRuleComment(std::string_view userdata) {
  size_t i = 0;
  while (i + 2 <= userdata.size()) {
    auto type = static_cast<uint8_t>(userdata[i]);
    auto len = static_cast<uint8_t>(userdata[i + 1]);
    if (i + 2 + len > userdata.size()) break;
    if (type == kUdataComment) {
      std::string_view v = userdata.substr(i + 2, len);
      if (!v.empty() && v.back() == '\0') v.remove_suffix(1);
      return std::string(v);
    }
    i += 2 + len;
  }
  return "";
}

}  // namespace berth::cni::bridge
