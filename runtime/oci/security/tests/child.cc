#include "runtime/oci/security/tests/child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fd.h"
#include "common/process.h"
#include "common/time.h"

namespace berth::runtime::security::testing {
namespace {

// Reads until EOF or the deadline; false on timeout.
bool Drain(int fd, int64_t deadline_ns, std::string* out) {
  char buf[4096];
  while (true) {
    int64_t left_ms = (deadline_ns - MonotonicNanos()) / 1000000;
    if (left_ms <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left_ms));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

// Waits for the child until the deadline; false on timeout.
bool WaitUntil(pid_t pid, int64_t deadline_ns, int* status) {
  while (MonotonicNanos() < deadline_ns) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return false;
    ::usleep(2000);
  }
  return false;
}

}  // namespace

std::string ChildOutcome::Describe() const {
  std::string what = timed_out ? "timed out"
                     : signal  ? "killed by signal " + std::to_string(signal)
                               : "exit status " + std::to_string(exit_code);
  return what + "; output:\n" + output;
}

void Report(int fd, const std::string& line) {
  std::string text = line + "\n";
  (void)!::write(fd, text.data(), text.size());
}

int Fail(int fd, const std::string& what) {
  return FailWith(fd, errno, what);
}

int FailWith(int fd, int err, const std::string& what) {
  Report(fd, what + ": " + std::strerror(err));
  return 1;
}

int Complain(int fd, const std::string& line) {
  Report(fd, line);
  return 1;
}

ChildOutcome RunInChild(const std::function<int(int)>& body, std::chrono::milliseconds timeout,
                        const std::function<void(pid_t)>& parent_side) {
  ChildOutcome outcome;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    outcome.output = std::string("pipe2: ") + std::strerror(errno);
    return outcome;
  }
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    outcome.output = std::string("fork: ") + std::strerror(errno);
    return outcome;
  }
  if (pid == 0) {
    read_end.reset();
    ::_exit(body(write_end.get()));
  }
  ChildGuard guard(pid);
  write_end.reset();
  if (parent_side) parent_side(pid);
  int64_t deadline = MonotonicNanos() + timeout.count() * 1000000;
  int status = 0;
  if (!Drain(read_end.get(), deadline, &outcome.output) || !WaitUntil(pid, deadline, &status)) {
    outcome.timed_out = true;
    return outcome;  // guard SIGKILLs and reaps it
  }
  guard.release();
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  return outcome;
}

}  // namespace berth::runtime::security::testing
