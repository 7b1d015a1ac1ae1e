// The suite's main: before gtest (and before any thread) the test process
// moves into network and mount namespaces of its own, so containerd, its
// shims, the CNI bridge, veths, iptables rules, `berth server`, `berth
// agent` and every mount live there and vanish with the test. Two
// directories containerd 1.6 insists on, whatever its config says, get a
// tmpfs of this namespace: /run (shim sockets in /run/containerd/s) and
// /var/lib/cni (libcni's result cache).

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "common/testing/test_namespaces.h"

namespace {

// A tmpfs over `dir` in this mount namespace; *created when the directory
// had to be made (on the host's filesystem, to be removed again).
bool MountTmpfs(const char* dir, bool* created) {
  *created = false;
  if (::mkdir(dir, 0755) == 0) {
    *created = true;
  } else if (errno != EEXIST) {
    std::perror(dir);
    return false;
  }
  if (::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    std::perror(dir);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool made_cni_dir = false;
  if (::geteuid() == 0) {
    if (!berth::testing::EnterTestNamespaces()) return 1;
    bool made_run = false;
    if (!MountTmpfs("/run", &made_run) || !MountTmpfs("/var/lib/cni", &made_cni_dir)) return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  int result = RUN_ALL_TESTS();
  if (made_cni_dir) {
    (void)::umount2("/var/lib/cni", MNT_DETACH);
    (void)::rmdir("/var/lib/cni");
  }
  return result;
}
