// The e2e suite's main: before gtest (and before any thread) the test
// process moves into a network namespace and a mount namespace of its own,
// so `berth up`, its shims, the pods, the berth0 bridge, the veths and every
// mount live there and vanish with the test, whatever happens. kubectl,
// port-forwards and the HTTP checks run from here too: 127.0.0.1 and the
// pod network are this namespace's.

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
