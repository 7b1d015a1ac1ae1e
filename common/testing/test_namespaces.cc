#include "common/testing/test_namespaces.h"

#include <sched.h>
#include <sys/mount.h>

#include <cstdio>
#include <cstdlib>

namespace berth::testing {

bool EnterTestNamespaces() {
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    std::perror("unshare(CLONE_NEWNET|CLONE_NEWNS)");
    return false;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    std::perror("mount --make-rprivate /");
    return false;
  }
  if (std::system("ip link set lo up") != 0) {
    std::fprintf(stderr, "ip link set lo up failed\n");
    return false;
  }
  return true;
}

}  // namespace berth::testing
