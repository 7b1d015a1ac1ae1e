#include "cmd/self_path.h"

#include <unistd.h>

#include "common/file.h"

namespace berth::cli {

std::string NextToSelf(const std::string& name) {
  char self[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? Dirname(std::string(self, static_cast<size_t>(n))) : ".";
  for (const std::string& candidate : {dir + "/" + name, dir + "/../runtime/shim/" + name,
                                       dir + "/../pause/" + name, dir + "/../cni/bridge/" + name}) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return dir + "/" + name;
}

}  // namespace berth::cli
