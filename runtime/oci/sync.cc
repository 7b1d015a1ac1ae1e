#include "runtime/oci/sync.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "common/unix_socket.h"

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
  std::string packet(sizeof(Header) + std::min(text.size(), kMaxPacket - sizeof(Header)), '\0');
  Header h{static_cast<uint32_t>(type), 0, value};
  std::memcpy(packet.data(), &h, sizeof h);
  std::memcpy(packet.data() + sizeof h, text.data(), packet.size() - sizeof h);
  return SendMessage(socket, packet, fd, "init sync socket");
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
  ReceivedMessage packet = BERTH_TRY(ReceiveMessage(fd_.get(), kMaxPacket, "init sync socket"));
  if (packet.payload.empty()) return Error(Errc::kAborted, "init sync socket closed by peer");
  if (packet.payload.size() < sizeof(Header)) return Error(Errc::kInternal, "short sync message");
  Header h;
  std::memcpy(&h, packet.payload.data(), sizeof h);
  SyncMessage msg;
  msg.type = static_cast<SyncType>(h.type);
  msg.value = h.value;
  msg.text = packet.payload.substr(sizeof h);
  msg.fd = std::move(packet.fd);
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
