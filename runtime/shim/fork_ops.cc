#include "runtime/shim/fork_ops.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "common/file.h"

namespace berth::shim {
namespace {

// berth-shim-runtime's fds (see runtime_main.cc).
constexpr int kReportFd = 3;
constexpr int kConsoleFd = 4;
constexpr int kLogFd = 5;

void Report(int fd, const std::string& text) {
  (void)WriteAll(fd, text, "shim op result");
}

// Puts `sources` on 0, 1, 2, ... (inherited across exec) without one dup2
// clobbering a later source; -1 becomes /dev/null for stdio and stays
// closed above it. Other fds stay as they are.
Status InstallFds(const std::vector<int>& sources) {
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return Error::Sys("open", "/dev/null");
  std::vector<int> high(sources.size(), -1);
  for (size_t i = 0; i < sources.size(); ++i) {
    int source = sources[i] >= 0 ? sources[i] : (i < 3 ? null.get() : -1);
    if (source < 0) continue;
    high[i] = ::fcntl(source, F_DUPFD_CLOEXEC, static_cast<int>(sources.size()) + 10);
    if (high[i] < 0) return Error::Sys("fcntl F_DUPFD_CLOEXEC", "fd " + std::to_string(source));
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    int target = static_cast<int>(i);
    if (high[i] < 0) {
      ::close(target);
      continue;
    }
    if (::dup2(high[i], target) < 0) return Error::Sys("dup2", "fd " + std::to_string(target));
    ::close(high[i]);
  }
  return Ok();
}

Result<ForkedOp> ForkRuntime(const RuntimeCommand& rt, std::vector<std::string> args,
                             const ChildStdio& stdio) {
  args.insert(args.begin(), rt.binary);
  args.insert(args.end(), {"--root", rt.root, "--report-fd", std::to_string(kReportFd), "--log-fd",
                           std::to_string(kLogFd)});
  if (!rt.cgroup_root.empty()) args.insert(args.end(), {"--cgroup-root", rt.cgroup_root});
  if (stdio.console_socket >= 0) {
    args.insert(args.end(), {"--console-fd", std::to_string(kConsoleFd)});
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return Error::Sys("pipe2", "shim op result");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork", "shim op");
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    // Where to report if the fds cannot be put in place.
    int spare = ::fcntl(write_end.get(), F_DUPFD_CLOEXEC, 64);
    // The runtime's warnings go to the shim's log (its stderr), not into
    // the container's.
    Status installed =
        InstallFds({stdio.in, stdio.out, stdio.err, write_end.get(), stdio.console_socket, 2});
    if (!installed.ok()) {
      Report(spare, FormatForkResult(std::move(installed).error()));
      ::_exit(127);
    }
    // The container must not keep other containers' pipes open.
    ::close_range(kLogFd + 1, ~0U, 0);
    ::execv(argv[0], argv.data());
    Report(kReportFd, FormatForkResult(Error::Sys("execv", rt.binary)));
    ::_exit(127);
  }
  return ForkedOp{pid, std::move(read_end)};
}

}  // namespace

Result<ForkedOp> ForkCreate(const RuntimeCommand& rt, const std::string& id,
                            const std::string& bundle, const ChildStdio& stdio) {
  return ForkRuntime(rt, {"create", "--id", id, "--bundle", bundle}, stdio);
}

Result<ForkedOp> ForkExec(const RuntimeCommand& rt, const std::string& id,
                          const std::string& process_json, const ChildStdio& stdio) {
  return ForkRuntime(rt, {"exec", "--id", id, "--process", process_json}, stdio);
}

std::string FormatForkResult(const Result<pid_t>& result) {
  if (result.ok()) return "ok " + std::to_string(*result);
  return "err " + std::to_string(static_cast<int>(result.error().code())) + " " +
         result.error().str();
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
