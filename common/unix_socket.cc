#include "common/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace berth {
namespace {

// Room for kMaxMessageFds fds, aligned as the kernel wants cmsg headers.
struct FdControl {
  alignas(cmsghdr) char bytes[CMSG_SPACE(sizeof(int) * kMaxMessageFds)] = {};
};

Result<sockaddr_un> Address(const std::string& path, std::string_view what) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + " path too long (" + std::to_string(path.size()) +
                     " bytes, at most " + std::to_string(sizeof addr.sun_path - 1) + "): " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

}  // namespace

Result<UniqueFd> ConnectUnix(const std::string& path, std::string_view what, int type) {
  sockaddr_un addr = BERTH_TRY(Address(path, what));
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket", std::string(what) + " " + path);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("connect", std::string(what) + " " + path);
  }
  return fd;
}

Result<UniqueFd> ListenUnix(const std::string& path, std::string_view what, int backlog, int type) {
  sockaddr_un addr = BERTH_TRY(Address(path, what));
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket", std::string(what) + " " + path);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("bind", std::string(what) + " " + path);
  }
  if (::listen(fd.get(), backlog) != 0) return Error::Sys("listen", std::string(what) + " " + path);
  return fd;
}

Status SendMessage(int socket, std::string_view payload, int fd, std::string_view what) {
  if (fd < 0) return SendMessageFds(socket, payload, {}, what);
  return SendMessageFds(socket, payload, std::span<const int>(&fd, 1), what);
}

Result<ReceivedMessage> ReceiveMessage(int socket, size_t max_size, std::string_view what) {
  ReceivedFds got = BERTH_TRY(ReceiveMessageFds(socket, max_size, what));
  ReceivedMessage out;
  out.payload = std::move(got.payload);
  if (!got.fds.empty()) out.fd = std::move(got.fds.back());
  return out;
}

Status SendMessageFds(int socket, std::string_view payload, std::span<const int> fds,
                      std::string_view what) {
  if (fds.size() > kMaxMessageFds) {
    return Error(Errc::kInvalidArgument, std::string(what) + ": " + std::to_string(fds.size()) +
                                             " fds in one message, at most " +
                                             std::to_string(kMaxMessageFds));
  }
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  FdControl control;
  if (!fds.empty()) {
    msg.msg_control = control.bytes;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  while (::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::Sys("sendmsg", std::string(what));
  }
  return Ok();
}

Result<ReceivedFds> ReceiveMessageFds(int socket, size_t max_size, std::string_view what) {
  ReceivedFds out;
  out.payload.resize(max_size);
  iovec iov{out.payload.data(), out.payload.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  FdControl control;
  msg.msg_control = control.bytes;
  msg.msg_controllen = sizeof control.bytes;
  ssize_t n;
  while ((n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return Error::Sys("recvmsg", std::string(what));
  }
  out.payload.resize(static_cast<size_t>(n));
  out.truncated = (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
  return out;
}

}  // namespace berth
