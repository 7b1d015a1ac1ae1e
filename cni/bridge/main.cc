// berth-cni-bridge: the CNI plugin binary. The runtime passes CNI_* in the
// environment and the configuration on stdin; the result or error goes to
// stdout (plugin.h), logs to stderr.

#include <unistd.h>

#include <cstdio>
#include <string>

#include "cni/bridge/plugin.h"

namespace {

std::string ReadAll(int fd) {
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace

int main() {
  using namespace berth::cni::bridge;
  CniEnv env = EnvFromProcess();
  // VERSION may come with an empty or closed stdin; everything else reads it.
  std::string input = ReadAll(STDIN_FILENO);
  PluginOutput out = RunPlugin(env, input);
  if (!out.out.empty()) {
    std::fwrite(out.out.data(), 1, out.out.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  return out.exit_code;
}
