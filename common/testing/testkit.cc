#include "common/testing/testkit.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "common/file.h"
#include "common/strings.h"

namespace berth::testing {

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string(ci) != "0" && std::string(ci) != "false";
}

bool IsRoot() {
  return geteuid() == 0;
}

bool InBerthVm() {
  Result<std::string> cmdline = ReadFile("/proc/cmdline");
  if (!cmdline.ok()) return false;
  for (const std::string& word : SplitNonEmpty(Trim(*cmdline), ' ')) {
    if (word == "berth.vm=1") return true;
  }
  return false;
}

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << strerror(errno);
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)RemoveAll(path_);
}

std::string BinaryDir() {
  const char* dir = std::getenv("BERTH_BINARY_DIR");
  return dir ? dir : BERTH_TESTKIT_BINARY_DIR;
}

std::string SourceDir() {
  const char* dir = std::getenv("BERTH_SOURCE_DIR");
  return dir ? dir : BERTH_TESTKIT_SOURCE_DIR;
}

std::string BuiltBinary(const std::string& relative) {
  return BinaryDir() + "/" + relative;
}

namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

}  // namespace

Result<UniqueFd> ListenLoopback(uint16_t* port, int backlog) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket");
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(fd.get(), backlog) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Error::Sys("bind/listen", "127.0.0.1:0");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

Result<UniqueFd> ConnectLoopback(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket");
  sockaddr_in addr = Loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("dial tcp", "127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

uint16_t UnusedPort() {
  uint16_t port = 0;
  return ListenLoopback(&port, 1).ok() ? port : 0;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Result<ChildGuard> SpawnLogged(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) return Error(Errc::kInvalidArgument, "SpawnLogged: empty argv");
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) return Error::Sys("open", log_path);
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return Error::Sys("open", "/dev/null");
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  cargv.reserve(args.size() + 1);
  for (std::string& a : args)
    cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork", argv[0]);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::dup2(null.get(), 0) < 0 || ::dup2(log.get(), 1) < 0 || ::dup2(log.get(), 2) < 0) {
      _exit(127);
    }
    ::execv(cargv[0], cargv.data());
    dprintf(2, "exec %s failed\n", cargv[0]);
    _exit(127);
  }
  return ChildGuard(pid);
}

}  // namespace berth::testing
