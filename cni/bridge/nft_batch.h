#pragma once
// nf_tables over nfnetlink with libmnl: a transaction batch (BATCH_BEGIN,
// messages, BATCH_END: the kernel applies all or none) of table, chain and
// rule messages, and a rule dump. Rules carry a comment in their userdata in
// the TLV layout nft(8) uses, so `nft list ruleset` shows it.

#include <linux/netlink.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cni/bridge/netlink_socket.h"
#include "common/error.h"

namespace berth::cni::bridge {

struct NftBaseChain {
  std::string name;
  uint32_t hook;     // NF_INET_PRE_ROUTING, ...
  int32_t priority;  // -100 dstnat, 100 srcnat
  std::string type;  // "nat", "filter"
};

class NftBatch {
 public:
  explicit NftBatch(NetlinkSocket& sock);

  // Creates the table if missing (no NLM_F_EXCL: existing is fine).
  void AddTable(uint8_t family, const std::string& table);
  // Creates the base chain if missing, policy accept.
  void AddChain(uint8_t family, const std::string& table, const NftBaseChain& chain);
  // Starts an appended rule carrying `comment`; the caller adds its
  // expressions (NftExprWriter) to the returned message before the next call.
  nlmsghdr* AddRule(uint8_t family, const std::string& table, const std::string& chain,
                    std::string_view comment);
  void DeleteRule(uint8_t family, const std::string& table, const std::string& chain,
                  uint64_t handle);

  size_t size() const { return messages_; }
  // Sends the batch and waits for every message's ACK.
  Status Commit(std::string_view what);

 private:
  nlmsghdr* Put(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id);
  void Finish();

  NetlinkSocket& sock_;
  std::vector<char> buf_;
  size_t used_ = 0;  // bytes of finished messages
  nlmsghdr* current_ = nullptr;
  size_t messages_ = 0;
};

struct NftRule {
  std::string chain;
  uint64_t handle = 0;
  std::string comment;  // empty if the rule has none
};

// Every rule of `table` (none when the table does not exist).
Result<std::vector<NftRule>> ListNftRules(NetlinkSocket& sock, uint8_t family,
                                          const std::string& table);

// nft's rule userdata: TLVs of {u8 type, u8 len, value}; type 0 is the
// comment, a NUL-terminated string.
std::string EncodeRuleComment(std::string_view comment);
std::string DecodeRuleComment(std::string_view userdata);

}  // namespace berth::cni::bridge
