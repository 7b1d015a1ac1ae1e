// cri_vm_test's main: before gtest (and before any thread) the test becomes
// a child subreaper, so the shims `berth cri` detaches are reparented to it
// and can be reaped (and killed if a test leaves one behind), and moves into
// a private mount namespace, so the pod's mounts (rootfs overlays, /dev/shm
// tmpfs) never reach the guest's table that later vm binaries share.

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>

#include "common/testing/testkit.h"

int main(int argc, char** argv) {
  // Only in the guest: on the host the tests skip and nothing is changed.
  if (::geteuid() == 0 && berth::testing::InBerthVm()) {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
      std::perror("prctl(PR_SET_CHILD_SUBREAPER)");
      return 1;
    }
    if (::unshare(CLONE_NEWNS) != 0) {
      std::perror("unshare(CLONE_NEWNS)");
      return 1;
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      std::perror("mount --make-rprivate /");
      return 1;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
