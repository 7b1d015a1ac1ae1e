#pragma once
// A netlink socket (libmnl) that owns its mnl_socket, and the three
// exchanges the plugin needs: a request answered by an ACK, a dump, and an
// nfnetlink batch answered by one ACK per message. Kernel errors become
// berth::Error with the errno and, when the kernel sent one, its extended
// ACK message ("Device does not exist", "nf_tables: ...").
//
// A socket stays in the network namespace it was created in, which is how
// the plugin works on a pod's netns without moving the whole process there
// (see netns.h).

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"

struct mnl_socket;

namespace berth::cni::bridge {

// One message under construction, in a buffer big enough for anything the
// plugin sends (a rule with its expressions is well under 1 KiB).
class NlMessage {
 public:
  NlMessage(uint16_t type, uint16_t flags);
  nlmsghdr* nlh() { return nlh_; }
  // The family-specific header right after nlmsghdr (ifinfomsg, ...).
  template <class T>
  T* PutHeader() {
    return static_cast<T*>(PutExtraHeader(sizeof(T)));
  }
  void* PutExtraHeader(size_t size);

 private:
  std::vector<char> buf_;
  nlmsghdr* nlh_;
};

class NetlinkSocket {
 public:
  // `bus` is NETLINK_ROUTE or NETLINK_NETFILTER; the socket lives in the
  // calling thread's network namespace.
  static Result<NetlinkSocket> Open(int bus);

  NetlinkSocket(NetlinkSocket&& other) noexcept;
  NetlinkSocket& operator=(NetlinkSocket&& other) noexcept;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket();

  using MessageFn = std::function<Status(const nlmsghdr*)>;

  // Sends `msg` with NLM_F_ACK and waits for the ACK, passing any reply
  // message before it (the answer to a GET) to `fn`. `op` and `object` name
  // the operation in errors ("RTM_NEWLINK", "bridge berth0").
  Status Request(NlMessage& msg, std::string_view op, std::string_view object,
                 const MessageFn& fn = nullptr);
  // Sends `msg` with NLM_F_DUMP and calls `fn` for every reply message of
  // a consistent dump: one the kernel marked interrupted is repeated.
  Status Dump(NlMessage& msg, const MessageFn& fn, std::string_view op, std::string_view object);

  // Sends an nfnetlink batch (a buffer of back-to-back messages, each with
  // NLM_F_ACK and its own sequence number taken from NextSeq) and waits for
  // `acks` replies; the first error wins.
  Status SendBatch(const std::vector<char>& batch, size_t acks, std::string_view what);

  uint32_t NextSeq() { return seq_++; }

 private:
  explicit NetlinkSocket(mnl_socket* nl);
  Status Send(const void* data, size_t len, std::string_view op, std::string_view object);
  Result<std::vector<char>> Receive(std::string_view op, std::string_view object);

  mnl_socket* nl_ = nullptr;
  uint32_t portid_ = 0;
  uint32_t seq_ = 0;
};

// Calls fn(const nlattr*) for each attribute of `nlh` after a family
// header of `offset` bytes (libmnl's mnl_attr_for_each does not compile as
// C++).
template <class Fn>
void ForEachAttr(const nlmsghdr* nlh, size_t offset, Fn&& fn) {
  using F = std::remove_reference_t<Fn>;
  mnl_attr_parse(
      nlh, static_cast<unsigned int>(offset),
      [](const nlattr* attr, void* data) -> int {
        (*static_cast<F*>(data))(attr);
        return MNL_CB_OK;
      },
      &fn);
}

// Calls fn(const nlattr*) for each attribute nested in `nest`.
template <class Fn>
void ForEachNested(const nlattr* nest, Fn&& fn) {
  using F = std::remove_reference_t<Fn>;
  mnl_attr_parse_nested(
      nest,
      [](const nlattr* attr, void* data) -> int {
        (*static_cast<F*>(data))(attr);
        return MNL_CB_OK;
      },
      &fn);
}

}  // namespace berth::cni::bridge
