#include "runtime/oci/foreground.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/process.h"

namespace berth::runtime::oci {
namespace {

// Puts our terminal in raw mode for the duration, if stdin is one.
class RawTerminal {
 public:
  RawTerminal() {
    if (::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(0, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

void CopyWinsize(int master) {
  winsize ws{};
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

bool Pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

// Reaps every exited child; returns the exit code of `pid` once it exits.
std::optional<int> ReapChildren(pid_t pid) {
  std::optional<int> result;
  int status;
  pid_t r;
  while ((r = ::waitpid(-1, &status, WNOHANG)) > 0) {
    if (r == pid) result = ExitCodeFromWaitStatus(status);
  }
  return result;
}

}  // namespace

Result<int> SuperviseForeground(pid_t pid, int tty_master) {
  sigset_t mask;
  sigfillset(&mask);
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGKILL, SIGSTOP})
    sigdelset(&mask, s);
  sigset_t old;
  if (::sigprocmask(SIG_BLOCK, &mask, &old) != 0) return Error::Sys("sigprocmask");
  UniqueFd sfd(::signalfd(-1, &mask, SFD_CLOEXEC));
  if (!sfd) return Error::Sys("signalfd");

  std::optional<RawTerminal> raw;
  bool stdin_open = tty_master >= 0;
  if (tty_master >= 0) {
    raw.emplace();
    CopyWinsize(tty_master);
  }
  std::optional<int> exit_code = ReapChildren(pid);
  bool master_open = tty_master >= 0;
  while (!exit_code || master_open) {
    pollfd fds[3];
    int n = 0;
    fds[n++] = {sfd.get(), POLLIN, 0};
    if (master_open) fds[n++] = {tty_master, POLLIN, 0};
    if (stdin_open && !exit_code) fds[n++] = {0, POLLIN, 0};
    // Once the process is gone, drain what the pty still holds, briefly.
    int r = ::poll(fds, static_cast<nfds_t>(n), exit_code ? 100 : -1);
    if (r < 0 && errno != EINTR) break;
    if (r == 0 && exit_code) break;
    for (int i = 0; i < n && r > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == sfd.get()) {
        signalfd_siginfo info{};
        if (::read(sfd.get(), &info, sizeof info) != sizeof info) continue;
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) {
          if (auto code = ReapChildren(pid)) exit_code = code;
        } else if (sig == SIGWINCH && tty_master >= 0) {
          CopyWinsize(tty_master);
        } else if (!exit_code) {
          ::kill(pid, sig);
        }
      } else if (fds[i].fd == tty_master) {
        master_open = Pump(tty_master, 1);
      } else if (fds[i].fd == 0) {
        stdin_open = Pump(0, tty_master);
      }
    }
  }
  raw.reset();
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (!exit_code) {
    int status = BERTH_TRY(WaitPid(pid));
    exit_code = ExitCodeFromWaitStatus(status);
  }
  return *exit_code;
}

}  // namespace berth::runtime::oci
