// berth-shim: the per-pod supervisor (see README.md and protocol.h).
//
//   berth-shim --id <pod> --dir <state dir> --runtime-root <dir>
//              [--cgroup-root <path>] [--runtime-binary <path>]
//              [--ready-fd <fd>]
//
// --runtime-binary defaults to berth-shim-runtime next to this binary.
//
// Binds <dir>/shim.sock, forks into the background (new session, child
// subreaper), writes <dir>/shim.pid, reports `ok <pid>` on --ready-fd and
// serves until `shutdown`.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/file.h"
#include "common/log.h"
#include "common/unix_socket.h"
#include "runtime/shim/supervisor.h"

namespace {

using berth::Error;
using berth::Result;
using berth::UniqueFd;
using berth::log::Level;

struct Args {
  std::string id, dir, runtime_root, cgroup_root, runtime_binary;
  int ready_fd = -1;
};

void Tell(int fd, const std::string& text) {
  if (fd >= 0) (void)berth::WriteAll(fd, text, "fd " + std::to_string(fd));
}

[[noreturn]] void Die(int ready_fd, const std::string& message) {
  Tell(ready_fd, "err " + message + "\n");
  Tell(2, "berth-shim: " + message + "\n");
  ::_exit(1);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) Die(-1, "flag " + flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--id")
      a.id = value;
    else if (flag == "--dir")
      a.dir = value;
    else if (flag == "--runtime-root")
      a.runtime_root = value;
    else if (flag == "--cgroup-root")
      a.cgroup_root = value;
    else if (flag == "--runtime-binary")
      a.runtime_binary = value;
    else if (flag == "--ready-fd")
      a.ready_fd = std::atoi(value.c_str());
    else
      Die(a.ready_fd, "unknown flag " + flag);
  }
  if (a.id.empty() || a.dir.empty() || a.runtime_root.empty()) {
    Die(a.ready_fd,
        "usage: berth-shim --id ID --dir DIR --runtime-root DIR "
        "[--cgroup-root PATH] [--runtime-binary PATH] [--ready-fd FD]");
  }
  if (a.runtime_binary.empty()) {
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) Die(a.ready_fd, std::string("readlink /proc/self/exe: ") + std::strerror(errno));
    std::string path(self, static_cast<size_t>(n));
    a.runtime_binary = path.substr(0, path.rfind('/') + 1) + "berth-shim-runtime";
  }
  if (::access(a.runtime_binary.c_str(), X_OK) != 0) {
    Die(a.ready_fd, "runtime binary " + a.runtime_binary + ": " + std::strerror(errno));
  }
  return a;
}

// Binds the control socket; a live shim already serving it is an error, a
// stale socket file (its shim died) is replaced.
Result<UniqueFd> BindSocket(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) {
    if (berth::ConnectUnix(path, "shim socket", SOCK_SEQPACKET).ok()) {
      return Error(berth::Errc::kAlreadyExists, "a shim already serves " + path);
    }
    ::unlink(path.c_str());
  }
  return berth::ListenUnix(path, "shim socket", 64, SOCK_SEQPACKET);
}

void RedirectStdio(const std::string& log_path, int ready_fd) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  int log = ::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (null < 0 || log < 0) Die(ready_fd, "open " + log_path + ": " + std::strerror(errno));
  ::dup2(null, 0);
  ::dup2(null, 1);
  ::dup2(log, 2);
  ::close(null);
  ::close(log);
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  RedirectStdio(args.dir + "/shim.log", args.ready_fd);
  berth::log::Configure({berth::log::Level::kInfo, berth::log::Format::kText, 2, false});

  Result<UniqueFd> listener = BindSocket(args.dir + "/shim.sock");
  if (!listener.ok()) Die(args.ready_fd, listener.error().str());

  pid_t child = ::fork();
  if (child < 0) Die(args.ready_fd, std::string("fork: ") + std::strerror(errno));
  if (child > 0) {
    Tell(args.ready_fd, "ok " + std::to_string(child) + "\n");
    ::_exit(0);
  }
  if (args.ready_fd >= 0) ::close(args.ready_fd);
  ::setsid();
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    berth::log::Write(Level::kError,
                      std::string("prctl PR_SET_CHILD_SUBREAPER: ") + std::strerror(errno));
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  berth::Status pid_written = berth::WriteFileAtomic(
      args.dir + "/shim.pid", std::to_string(::getpid()), 0600, berth::Durability::kProcessCrash);
  if (!pid_written.ok()) berth::log::Write(Level::kWarn, pid_written.error().str());

  berth::shim::SupervisorOptions options;
  options.dir = args.dir;
  options.runtime.binary = args.runtime_binary;
  options.runtime.root = args.runtime_root;
  options.runtime.cgroup_root = args.cgroup_root;
  auto supervisor = berth::shim::Supervisor::Create(options, std::move(*listener));
  if (!supervisor.ok()) {
    berth::log::Write(Level::kError,
                      std::string("pod ") + args.id + ": " + supervisor.error().str());
    return 1;
  }
  berth::Status done = (*supervisor)->Run();
  ::unlink((args.dir + "/shim.sock").c_str());
  if (!done.ok()) {
    berth::log::Write(Level::kError, std::string("pod ") + args.id + ": " + done.error().str());
    return 1;
  }
  return 0;
}
