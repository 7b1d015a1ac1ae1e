#include "common/testing/testkit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
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

uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
               ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  return bound ? ntohs(addr.sin_port) : 0;
}

}  // namespace berth::testing
