#include "common/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/fd.h"
#include "common/pipe.h"
#include "common/time.h"

namespace berth {

std::string CommandResult::Describe() const {
  if (timed_out) return "timed out";
  if (term_signal != 0) return std::string("killed by signal ") + strsignal(term_signal);
  return "exit status " + std::to_string(exit_code);
}

int ExitCodeFromWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

Result<int> WaitPid(pid_t pid, int flags) {
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, flags);
    if (r >= 0) return r == 0 ? -1 : status;
    if (errno != EINTR) return Error::Sys("waitpid", std::to_string(pid));
  }
}

ChildGuard& ChildGuard::operator=(ChildGuard&& o) noexcept {
  if (this != &o) {
    KillAndReap();
    pid_ = o.release();
  }
  return *this;
}

void ChildGuard::KillAndReap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  (void)WaitPid(pid_);
  pid_ = -1;
}

namespace {

[[noreturn]] void ExecChild(const Command& cmd, int in, int out, int err) {
  if (::dup2(in, 0) < 0) _exit(127);
  if (out >= 0 && ::dup2(out, 1) < 0) _exit(127);
  if (err >= 0 && ::dup2(err, 2) < 0) _exit(127);
  if (!cmd.cwd.empty() && ::chdir(cmd.cwd.c_str()) != 0) _exit(127);
  // Only stdio goes to the command: a parent's sockets held open by a
  // long-lived child would outlive the parent.
  ::close_range(3, ~0U, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> argv;
  for (const auto& a : cmd.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (cmd.env) {
    std::vector<char*> envp;
    for (const auto& e : *cmd.env)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    ::execvpe(argv[0], argv.data(), envp.data());
  } else {
    ::execvp(argv[0], argv.data());
  }
  dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

}  // namespace

Result<CommandResult> RunCommand(const Command& cmd) {
  if (cmd.argv.empty()) return Error(Errc::kInvalidArgument, "run command: empty argv");
  Pipe in = BERTH_TRY(MakePipe("command stdio"));
  Pipe out, err;
  if (cmd.capture_output) {
    out = BERTH_TRY(MakePipe("command stdio"));
    err = BERTH_TRY(MakePipe("command stdio"));
  }
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork", cmd.argv[0]);
  if (pid == 0) ExecChild(cmd, in.read.get(), out.write.get(), err.write.get());
  ChildGuard child(pid);
  in.read.reset();
  out.write.reset();
  err.write.reset();

  // A write to a hook that ignores stdin must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  std::string_view pending = cmd.stdin_data;
  if (pending.empty()) in.write.reset();
  if (in.write) ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);

  CommandResult result;
  int64_t deadline = cmd.timeout ? MonotonicNanos() + cmd.timeout->count() * 1'000'000 : 0;
  while (in.write || out.read || err.read) {
    pollfd fds[3];
    int n = 0;
    if (in.write) fds[n++] = {in.write.get(), POLLOUT, 0};
    if (out.read) fds[n++] = {out.read.get(), POLLIN, 0};
    if (err.read) fds[n++] = {err.read.get(), POLLIN, 0};
    int wait_ms = -1;
    if (cmd.timeout) {
      int64_t left = deadline - MonotonicNanos();
      if (left <= 0) {
        result.timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(left / 1'000'000) + 1;
    }
    int r = ::poll(fds, n, wait_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("poll", cmd.argv[0]);
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (in.write && fds[i].fd == in.write.get()) {
        ssize_t w = ::write(in.write.get(), pending.data(), pending.size());
        if (w > 0) pending.remove_prefix(static_cast<size_t>(w));
        if (w < 0 && errno != EAGAIN) pending = {};
        if (pending.empty()) in.write.reset();
        continue;
      }
      UniqueFd& src = (out.read && fds[i].fd == out.read.get()) ? out.read : err.read;
      std::string& dst = (&src == &out.read) ? result.out : result.err;
      char buf[4096];
      ssize_t got = ::read(src.get(), buf, sizeof buf);
      if (got > 0) {
        dst.append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        src.reset();
      }
    }
  }
  if (cmd.timeout && !result.timed_out) {
    // Output closed; the process may still be running past the deadline.
    while (true) {
      int status = BERTH_TRY(WaitPid(pid, WNOHANG));
      if (status != -1) {
        child.release();
        if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
        return result;
      }
      if (MonotonicNanos() >= deadline) {
        result.timed_out = true;
        break;
      }
      ::usleep(1000);
    }
  }
  if (result.timed_out) return result;  // ChildGuard kills and reaps
  int status = BERTH_TRY(WaitPid(child.release()));
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

}  // namespace berth
