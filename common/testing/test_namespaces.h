#pragma once
// For the mains of tests that run berth for real (CRI, e2e): before gtest
// and before any thread, the test process moves into a network namespace
// and a mount namespace of its own (`/` made rprivate, `lo` up), so the
// daemons, shims, bridges, veths and mounts it makes live there and vanish
// with it, whatever happens.

namespace berth::testing {

// Prints what failed (perror style) and returns false.
bool EnterTestNamespaces();

}  // namespace berth::testing
