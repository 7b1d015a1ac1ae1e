#include "runtime/oci/sync.h"

#include <sys/socket.h>

#include <cstring>
#include <vector>

namespace berth::runtime::oci {
namespace {

struct Header {
  uint32_t type;
  uint32_t pad;
  int64_t value;
};

constexpr size_t kMaxPacket = size_t{64} * 1024;

}  // namespace

Result<std::pair<SyncChannel, SyncChannel>> SyncChannel::Pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return Error::Sys("socketpair", "init sync");
  }
  return std::make_pair(SyncChannel(UniqueFd(fds[0])), SyncChannel(UniqueFd(fds[1])));
}

namespace {

Status SendPacket(int socket, SyncType type, int64_t value, std::string_view text, int fd) {
  std::vector<char> packet(sizeof(Header) + std::min(text.size(), kMaxPacket - sizeof(Header)));
  Header h{static_cast<uint32_t>(type), 0, value};
  std::memcpy(packet.data(), &h, sizeof h);
  std::memcpy(packet.data() + sizeof h, text.data(), packet.size() - sizeof h);
  iovec iov{packet.data(), packet.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  while (::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::Sys("sendmsg", "init sync socket");
  }
  return Ok();
}

}  // namespace

Status SyncChannel::Send(SyncType type, int64_t value, std::string_view text) const {
  return SendPacket(fd_.get(), type, value, text, -1);
}

Status SyncChannel::SendWithFd(SyncType type, int fd) const {
  return SendPacket(fd_.get(), type, 0, {}, fd);
}

void SyncChannel::SendError(const Error& error) const {
  (void)Send(SyncType::kError, static_cast<int64_t>(error.code()), error.str());
}

Result<SyncMessage> SyncChannel::Receive() const {
  std::vector<char> buf(kMaxPacket);
  iovec iov{buf.data(), buf.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(fd_.get(), &mh, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return Error::Sys("recvmsg", "init sync socket");
  }
  if (n == 0) return Error(Errc::kAborted, "init sync socket closed by peer");
  if (static_cast<size_t>(n) < sizeof(Header)) return Error(Errc::kInternal, "short sync message");
  Header h;
  std::memcpy(&h, buf.data(), sizeof h);
  SyncMessage msg;
  msg.type = static_cast<SyncType>(h.type);
  msg.value = h.value;
  msg.text.assign(buf.data() + sizeof h, static_cast<size_t>(n) - sizeof h);
  if (cmsghdr* cmsg = CMSG_FIRSTHDR(&mh); cmsg != nullptr && cmsg->cmsg_type == SCM_RIGHTS) {
    int fd;
    std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
    msg.fd.reset(fd);
  }
  return msg;
}

Result<SyncMessage> SyncChannel::Expect(SyncType type, std::string_view step) const {
  Result<SyncMessage> msg = Receive();
  if (!msg.ok()) return std::move(msg).error().Wrap("waiting for " + std::string(step));
  if (msg->type == SyncType::kError) return Error(static_cast<Errc>(msg->value), msg->text);
  if (msg->type != type) {
    return Error(Errc::kInternal, "unexpected sync message " +
                                      std::to_string(static_cast<uint32_t>(msg->type)) +
                                      " while waiting for " + std::string(step));
  }
  return msg;
}

}  // namespace berth::runtime::oci
