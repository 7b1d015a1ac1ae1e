// The proxy priv suites' main: before gtest and before any thread, the test
// process moves into a netns and a mount ns of its own, so the addresses,
// veths, pinned netns and bpffs mounts it makes vanish with it.

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/testing/test_namespaces.h"

int main(int argc, char** argv) {
  if (::geteuid() == 0) {
    if (!berth::testing::EnterTestNamespaces()) return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
