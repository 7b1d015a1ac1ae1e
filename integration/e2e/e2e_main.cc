// The e2e suite's main: before gtest (and before any thread) the test
// process moves into a network namespace and a mount namespace of its own,
// so `berth up`, its shims, the pods, the berth0 bridge, the veths and every
// mount live there and vanish with the test, whatever happens. kubectl,
// port-forwards and the HTTP checks run from here too: 127.0.0.1 and the
// pod network are this namespace's.

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (::geteuid() == 0) {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
      std::perror("unshare(CLONE_NEWNET|CLONE_NEWNS)");
      return 1;
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      std::perror("mount --make-rprivate /");
      return 1;
    }
    if (std::system("ip link set lo up") != 0) {
      std::fprintf(stderr, "ip link set lo up failed\n");
      return 1;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
