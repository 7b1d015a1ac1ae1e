#include "runtime/shim/fork_ops.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>

#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "runtime/oci/spec.h"
#include "runtime/shim/protocol.h"

namespace berth::shim {
namespace {

void Report(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Puts the stdio fds on 0, 1, 2 without one dup2 clobbering another source.
Status InstallStdio(const ChildStdio& stdio) {
  int sources[3] = {stdio.in, stdio.out, stdio.err};
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return Error::Sys("open", "/dev/null");
  int high[3];
  for (int i = 0; i < 3; ++i) {
    high[i] = ::fcntl(sources[i] >= 0 ? sources[i] : null.get(), F_DUPFD_CLOEXEC, 10);
    if (high[i] < 0) return Error::Sys("fcntl F_DUPFD_CLOEXEC", "stdio");
  }
  for (int i = 0; i < 3; ++i) {
    if (::dup2(high[i], i) < 0) return Error::Sys("dup2", "stdio " + std::to_string(i));
    ::close(high[i]);
  }
  return Ok();
}

// Moves `fd` to `target` (close-on-exec); -1 stays -1.
Status MoveTo(int& fd, int target) {
  if (fd < 0) return Ok();
  int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (high < 0) return Error::Sys("fcntl F_DUPFD_CLOEXEC", "fd " + std::to_string(fd));
  if (::dup3(high, target, O_CLOEXEC) < 0)
    return Error::Sys("dup3", "fd " + std::to_string(target));
  fd = target;
  return Ok();
}

// Leaves only stdio, the result pipe (fd 3), the console socket (fd 4) and
// the shim's log (fd 5): the container must not keep other containers'
// pipes open.
Status KeepOnly(int& result, int& console, int& log) {
  int high[3] = {result, console, log};
  for (int& fd : high) {
    if (fd >= 0 && (fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 10)) < 0) {
      return Error::Sys("fcntl F_DUPFD_CLOEXEC", "shim op fds");
    }
  }
  result = high[0], console = high[1], log = high[2];
  BERTH_TRY(MoveTo(result, 3));
  BERTH_TRY(MoveTo(console, 4));
  BERTH_TRY(MoveTo(log, 5));
  if (::close_range(6, ~0U, 0) != 0) return Error::Sys("close_range", "6..");
  return Ok();
}

Result<ForkedOp> ForkChild(ChildStdio stdio, const std::function<Result<pid_t>(int)>& op) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return Error::Sys("pipe2", "shim op result");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork", "shim op");
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    int report = write_end.release();
    // The runtime's warnings go to the shim's log, not into the container's.
    int log_fd = ::fcntl(2, F_DUPFD_CLOEXEC, 10);
    Result<pid_t> done = [&]() -> Result<pid_t> {
      BERTH_TRY(InstallStdio(stdio));
      BERTH_TRY(KeepOnly(report, stdio.console_socket, log_fd));
      log::Config config = log::Current();
      config.fd = log_fd;
      config.owns_fd = false;
      log::Configure(config);
      return op(stdio.console_socket);
    }();
    if (done.ok()) {
      Report(report, "ok " + std::to_string(*done));
    } else {
      Report(report, "err " + std::to_string(static_cast<int>(done.error().code())) + " " +
                         done.error().str());
    }
    ::_exit(done.ok() ? 0 : 1);
  }
  return ForkedOp{pid, std::move(read_end)};
}

}  // namespace

Result<ForkedOp> ForkCreate(const runtime::oci::RuntimeOptions& rt, const std::string& id,
                            const std::string& bundle, const ChildStdio& stdio) {
  return ForkChild(stdio, [&](int console_socket) -> Result<pid_t> {
    runtime::oci::CreateOptions opts;
    opts.id = id;
    opts.bundle = bundle;
    opts.console_socket_fd = console_socket;
    return runtime::oci::CreateContainer(rt, opts);
  });
}

Result<ForkedOp> ForkExec(const runtime::oci::RuntimeOptions& rt, const std::string& id,
                          const std::string& process_json, const ChildStdio& stdio) {
  return ForkChild(stdio, [&](int console_socket) -> Result<pid_t> {
    std::string text = BERTH_TRY(ReadFile(process_json));
    boost::json::value doc = BERTH_TRY(json::Parse(text, process_json));
    runtime::oci::ExecOptions opts;
    opts.id = id;
    opts.process = BERTH_TRY(runtime::oci::ParseProcess(json::Field(&doc, "process")));
    opts.detach = true;
    opts.console_socket_fd = console_socket;
    pid_t pid = -1;
    opts.started_pid = &pid;
    BERTH_TRY(runtime::oci::ExecInContainer(rt, opts));
    return pid;
  });
}

Result<pid_t> ReadForkResult(int result) {
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(result, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) return Error::Sys("read", "shim op result");
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (text.starts_with("ok ")) return static_cast<pid_t>(std::atol(text.c_str() + 3));
  if (text.starts_with("err ")) {
    char* rest = nullptr;
    long code = std::strtol(text.c_str() + 4, &rest, 10);
    Errc errc = code > 0 && code <= 16 ? static_cast<Errc>(code) : Errc::kUnknown;
    return Error(errc, rest != nullptr && *rest == ' ' ? rest + 1 : text);
  }
  return Error(Errc::kInternal, "the runtime child died without reporting (" +
                                    (text.empty() ? std::string("no output") : text) + ")");
}

}  // namespace berth::shim
