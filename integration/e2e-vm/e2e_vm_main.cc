// e2e_vm_test's main. Only inside the vm tier's guest (on the host the suite
// skips, or fails in CI, and nothing is changed), before gtest and before
// any thread, the test process moves into a network and a mount namespace
// of its own, as the e2e tier's main does: `berth up`, its shims, the pods,
// the berth0 bridge and every mount live there, and later vm binaries
// sharing the guest never see them. Then it puts $TMPDIR on a tmpfs of its
// own: the guest's /tmp is an overlayfs, which the kernel refuses as the
// upper layer of the containers' rootfs overlays.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/testing/test_namespaces.h"
#include "common/testing/testkit.h"

int main(int argc, char** argv) {
  std::string scratch;
  if (::geteuid() == 0 && berth::testing::InBerthVm()) {
    if (!berth::testing::EnterTestNamespaces()) return 1;
    scratch = "/tmp/berth-e2e-vm." + std::to_string(::getpid());
    if (::mkdir(scratch.c_str(), 0700) != 0) {
      std::perror(("mkdir " + scratch).c_str());
      return 1;
    }
    if (::mount("berth-e2e-vm", scratch.c_str(), "tmpfs", 0, "mode=0700") != 0) {
      std::perror(("mount tmpfs on " + scratch).c_str());
      return 1;
    }
    ::setenv("TMPDIR", scratch.c_str(), 1);
  }
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  if (!scratch.empty()) {
    ::umount2(scratch.c_str(), MNT_DETACH);
    ::rmdir(scratch.c_str());
  }
  return rc;
}
