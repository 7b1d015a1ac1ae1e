// The CRI suite's main: before gtest (and before any thread) the test
// process moves into a network namespace and a mount namespace of its own,
// so `berth cri`, its shims, CNI plugins and pods all live there: bridges,
// veths, firewall rules and mounts vanish with the test, whatever happens.

#include <gtest/gtest.h>

#include "common/testing/test_namespaces.h"

int main(int argc, char** argv) {
  if (::geteuid() == 0) {
    if (!berth::testing::EnterTestNamespaces()) return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
