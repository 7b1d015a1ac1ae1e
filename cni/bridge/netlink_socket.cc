#include "cni/bridge/netlink_socket.h"

#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <thread>

namespace berth::cni::bridge {
namespace {

constexpr size_t kMessageBufferSize = 8192;
constexpr size_t kReceiveBufferSize = 64 * 1024;  // dumps pack many messages per read
constexpr int kReplyTimeoutSeconds = 10;
constexpr int kDumpAttempts = 50;

// The kernel's extended-ACK text (NLMSGERR_ATTR_MSG), if it sent one.
std::string ExtAckMessage(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t offset = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  std::string msg;
  mnl_attr_parse(
      nlh, static_cast<unsigned int>(offset),
      [](const nlattr* attr, void* data) -> int {
        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
            mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
          *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
        }
        return MNL_CB_OK;
      },
      &msg);
  return msg;
}

Error KernelError(int err, std::string_view op, std::string_view object, const std::string& ext) {
  std::string what(object);
  if (!ext.empty()) what += " (kernel: " + ext + ")";
  return Error::Sys(std::string(op), what, err);
}

// What one reply message means for the exchange in progress.
enum class Reply { kData, kAck, kDone };

Result<Reply> Classify(const nlmsghdr* nlh, std::string_view op, std::string_view object) {
  if (nlh->nlmsg_type == NLMSG_ERROR) {
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    if (err->error == 0) return Reply::kAck;
    return KernelError(-err->error, op, object, ExtAckMessage(nlh));
  }
  if (nlh->nlmsg_type == NLMSG_DONE) {
    if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
      int status = *static_cast<const int*>(mnl_nlmsg_get_payload(nlh));
      if (status < 0) return KernelError(-status, op, object, "");
    }
    return Reply::kDone;
  }
  return Reply::kData;
}

}  // namespace

NlMessage::NlMessage(uint16_t type, uint16_t flags) : buf_(kMessageBufferSize) {
  nlh_ = mnl_nlmsg_put_header(buf_.data());
  nlh_->nlmsg_type = type;
  nlh_->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
}

void* NlMessage::PutExtraHeader(size_t size) {
  return mnl_nlmsg_put_extra_header(nlh_, size);
}

Result<NetlinkSocket> NetlinkSocket::Open(int bus) {
  mnl_socket* nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
  if (nl == nullptr) return Error::Sys("socket", "netlink bus " + std::to_string(bus));
  NetlinkSocket sock(nl);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    return Error::Sys("bind", "netlink bus " + std::to_string(bus));
  }
  sock.portid_ = mnl_socket_get_portid(nl);
  int one = 1;
  // Best effort: extended ACK text for errors, and ACKs without the echoed
  // request.
  mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one);
  mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
  timeval tv{kReplyTimeoutSeconds, 0};
  ::setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return sock;
}

NetlinkSocket::NetlinkSocket(mnl_socket* nl)
    : nl_(nl), seq_(static_cast<uint32_t>(time(nullptr))) {}

NetlinkSocket::NetlinkSocket(NetlinkSocket&& other) noexcept
    : nl_(std::exchange(other.nl_, nullptr)), portid_(other.portid_), seq_(other.seq_) {}

NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&& other) noexcept {
  if (this != &other) {
    if (nl_ != nullptr) mnl_socket_close(nl_);
    nl_ = std::exchange(other.nl_, nullptr);
    portid_ = other.portid_;
    seq_ = other.seq_;
  }
  return *this;
}

NetlinkSocket::~NetlinkSocket() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
}

Status NetlinkSocket::Send(const void* data, size_t len, std::string_view op,
                           std::string_view object) {
  if (mnl_socket_sendto(nl_, data, len) < 0) {
    return Error::Sys("sendto", "netlink " + std::string(op) + " " + std::string(object));
  }
  return Ok();
}

Result<std::vector<char>> NetlinkSocket::Receive(std::string_view op, std::string_view object) {
  std::vector<char> buf(kReceiveBufferSize);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Error::Sys("recvfrom", "netlink " + std::string(op) + " " + std::string(object));
    }
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
}

Status NetlinkSocket::Request(NlMessage& msg, std::string_view op, std::string_view object,
                              const MessageFn& fn) {
  nlmsghdr* nlh = msg.nlh();
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = NextSeq();
  BERTH_TRY(Send(nlh, nlh->nlmsg_len, op, object));
  for (;;) {
    std::vector<char> buf = BERTH_TRY(Receive(op, object));
    int len = static_cast<int>(buf.size());
    for (auto* r = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(r, len);
         r = mnl_nlmsg_next(r, &len)) {
      if (r->nlmsg_seq != nlh->nlmsg_seq) continue;
      Reply kind = BERTH_TRY(Classify(r, op, object));
      if (kind != Reply::kData) return Ok();
      if (fn) BERTH_TRY(fn(r));
    }
  }
}

Status NetlinkSocket::Dump(NlMessage& msg, const MessageFn& fn, std::string_view op,
                           std::string_view object) {
  nlmsghdr* nlh = msg.nlh();
  nlh->nlmsg_flags |= NLM_F_DUMP;
  // A dump that races a change (another plugin committing nf_tables rules,
  // say) is marked NLM_F_DUMP_INTR and may have skipped entries; nothing of
  // it reaches `fn` until one whole dump ran undisturbed.
  for (int attempt = 1;; ++attempt) {
    nlh->nlmsg_seq = NextSeq();
    BERTH_TRY(Send(nlh, nlh->nlmsg_len, op, object));
    std::vector<std::vector<char>> replies;
    bool interrupted = false;
    bool done = false;
    while (!done) {
      std::vector<char> buf = BERTH_TRY(Receive(op, object));
      int len = static_cast<int>(buf.size());
      for (auto* r = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(r, len);
           r = mnl_nlmsg_next(r, &len)) {
        if (r->nlmsg_seq != nlh->nlmsg_seq) continue;
        if (r->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        Reply kind = BERTH_TRY(Classify(r, op, object));
        if (kind != Reply::kData) {
          done = true;
          break;
        }
        const auto* bytes = reinterpret_cast<const char*>(r);
        replies.emplace_back(bytes, bytes + r->nlmsg_len);
      }
    }
    if (!interrupted) {
      for (const std::vector<char>& r : replies)
        BERTH_TRY(fn(reinterpret_cast<const nlmsghdr*>(r.data())));
      return Ok();
    }
    if (attempt == kDumpAttempts) {
      return Error(Errc::kAborted, std::string(op) + " " + std::string(object) + ": dump changed " +
                                       "underneath " + std::to_string(kDumpAttempts) + " times");
    }
    // Concurrent plugins commit in bursts; waiting a little longer each
    // time lets one finish rather than racing it again.
    std::this_thread::sleep_for(std::chrono::microseconds(100 * std::min(attempt, 20)));
  }
}

Status NetlinkSocket::SendBatch(const std::vector<char>& batch, size_t acks,
                                std::string_view what) {
  BERTH_TRY(Send(batch.data(), batch.size(), "nfnetlink batch", what));
  // nfnetlink runs the whole batch inside sendto(), so every reply (one per
  // message, or a single one for a malformed batch) is queued by now.
  std::optional<Error> first_error;
  size_t replies = 0;
  std::vector<char> buf(kReceiveBufferSize);
  for (;;) {
    ssize_t n = ::recv(mnl_socket_get_fd(nl_), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return Error::Sys("recv", "nfnetlink batch " + std::string(what));
    int len = static_cast<int>(n);
    for (auto* r = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(r, len);
         r = mnl_nlmsg_next(r, &len)) {
      if (r->nlmsg_type != NLMSG_ERROR) continue;
      ++replies;
      auto kind = Classify(r, "nfnetlink batch", what);
      if (!kind.ok() && !first_error) first_error = std::move(kind).error();
    }
  }
  if (first_error) return std::move(*first_error);
  if (replies < acks) {
    return Error(Errc::kInternal, "nfnetlink batch " + std::string(what) + ": " +
                                      std::to_string(replies) + " of " + std::to_string(acks) +
                                      " acknowledgements received");
  }
  return Ok();
}

}  // namespace berth::cni::bridge
