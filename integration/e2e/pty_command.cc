#include "integration/e2e/pty_command.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/process.h"

namespace berth::e2e {

Result<PtyResult> RunInPty(const std::vector<std::string>& argv, const std::vector<PtyStep>& steps,
                           std::chrono::milliseconds timeout) {
  if (argv.empty()) return Error(Errc::kInvalidArgument, "RunInPty: empty argv");
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const std::string& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  winsize size{};
  size.ws_row = 24;
  size.ws_col = 80;
  int master_fd = -1;
  pid_t pid = ::forkpty(&master_fd, nullptr, nullptr, &size);
  if (pid < 0) return Error::Sys("forkpty", argv[0]);
  if (pid == 0) {
    ::close_range(3, ~0U, 0);
    ::execv(cargv[0], cargv.data());
    _exit(127);
  }
  ChildGuard child(pid);
  UniqueFd master(master_fd);
  PtyResult result;
  size_t step = 0;
  size_t step_from = 0;  // output before this offset does not count for the step
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    while (step < steps.size() &&
           result.output.find(steps[step].wait_for, step_from) != std::string::npos) {
      const std::string& text = steps[step].send;
      if (::write(master.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        return Error::Sys("write", "pty of " + argv[0]);
      }
      step_from = result.output.size();
      ++step;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      return result;  // the guard kills and reaps
    }
    pollfd p{master.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error::Sys("poll", "pty of " + argv[0]);
    if (r == 0) continue;
    char buf[4096];
    ssize_t n = ::read(master.get(), buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EIO: the terminal's last user closed it
  }
  int status = BERTH_TRY(WaitPid(child.release()));
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

}  // namespace berth::e2e
