#include "common/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace berth {
namespace {

// Room for one fd, aligned as the kernel wants cmsg headers.
struct FdControl {
  alignas(cmsghdr) char bytes[CMSG_SPACE(sizeof(int))] = {};
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

Result<UniqueFd> ConnectUnix(const std::string& path, std::string_view what) {
  sockaddr_un addr = BERTH_TRY(Address(path, what));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket", std::string(what) + " " + path);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("connect", std::string(what) + " " + path);
  }
  return fd;
}

Result<UniqueFd> ListenUnix(const std::string& path, std::string_view what, int backlog) {
  sockaddr_un addr = BERTH_TRY(Address(path, what));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket", std::string(what) + " " + path);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("bind", std::string(what) + " " + path);
  }
  if (::listen(fd.get(), backlog) != 0) return Error::Sys("listen", std::string(what) + " " + path);
  return fd;
}

Status SendMessage(int socket, std::string_view payload, int fd, std::string_view what) {
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  FdControl control;
  if (fd >= 0) {
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  while (::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::Sys("sendmsg", std::string(what));
  }
  return Ok();
}

Result<ReceivedMessage> ReceiveMessage(int socket, size_t max_size, std::string_view what) {
  ReceivedMessage out;
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
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      out.fd.reset(fd);
    }
  }
  return out;
}

}  // namespace berth
