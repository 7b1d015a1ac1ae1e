#include "runtime/oci/init/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "common/unix_socket.h"

namespace berth::runtime::oci {

Status SendFd(int socket_fd, int fd, const std::string& name) {
  return SendMessage(socket_fd, name, fd, "console socket");
}

Result<UniqueFd> ReceiveFd(int socket_fd) {
  ReceivedMessage msg = BERTH_TRY(ReceiveMessage(socket_fd, 4096, "console socket"));
  if (msg.payload.empty() || !msg.fd) {
    return Error(Errc::kAborted, "console socket closed without a terminal fd");
  }
  return std::move(msg.fd);
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
