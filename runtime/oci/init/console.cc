#include "runtime/oci/init/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace berth::runtime::oci {

Status SendFd(int socket_fd, int fd, const std::string& name) {
  msghdr msg{};
  iovec iov{const_cast<char*>(name.data()), name.size()};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  while (::sendmsg(socket_fd, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::Sys("sendmsg", "console socket");
  }
  return Ok();
}

Result<UniqueFd> ReceiveFd(int socket_fd) {
  char name[4096];
  msghdr msg{};
  iovec iov{name, sizeof name};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return Error::Sys("recvmsg", "console socket");
  }
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (n == 0 || cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) {
    return Error(Errc::kAborted, "console socket closed without a terminal fd");
  }
  int fd;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return UniqueFd(fd);
}

Result<UniqueFd> ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error(Errc::kInvalidArgument, "console socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket", path);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("connect", path);
  }
  return fd;
}

Status SetupConsole(int socket_fd, const Process& process, bool mount_console) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return Error::Sys("open", "/dev/ptmx");
  if (::unlockpt(master.get()) != 0) return Error::Sys("unlockpt", "/dev/ptmx");
  int index = 0;
  if (::ioctl(master.get(), TIOCGPTN, &index) != 0)
    return Error::Sys("ioctl TIOCGPTN", "/dev/ptmx");
  std::string slave_path = "/dev/pts/" + std::to_string(index);
  if (process.console_size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(process.console_size->height);
    ws.ws_col = static_cast<unsigned short>(process.console_size->width);
    if (::ioctl(master.get(), TIOCSWINSZ, &ws) != 0)
      return Error::Sys("ioctl TIOCSWINSZ", slave_path);
  }
  BERTH_TRY(SendFd(socket_fd, master.get(), "/dev/ptmx"));
  master.reset();
  UniqueFd slave(::open(slave_path.c_str(), O_RDWR | O_NOCTTY));
  if (!slave) return Error::Sys("open", slave_path);
  // The process owns its terminal, as after a login.
  if (::fchown(slave.get(), process.user.uid, static_cast<gid_t>(-1)) != 0) {
    return Error::Sys("fchown", slave_path);
  }
  if (mount_console) {
    int fd = ::open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) ::close(fd);
    if (::mount(slave_path.c_str(), "/dev/console", nullptr, MS_BIND, nullptr) != 0) {
      return Error::Sys("mount", "bind " + slave_path + " on /dev/console");
    }
  }
  for (int target = 0; target <= 2; ++target) {
    if (::dup2(slave.get(), target) < 0) return Error::Sys("dup2", slave_path);
  }
  if (::ioctl(0, TIOCSCTTY, 0) != 0) return Error::Sys("ioctl TIOCSCTTY", slave_path);
  return Ok();
}

}  // namespace berth::runtime::oci
