#pragma once
// Helpers shared by berth's tests of every tier.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "common/process.h"

namespace berth::testing {

// Skips the test when `condition` is false, except in CI (CI set in the
// environment), where a missing prerequisite is a failure: CI machines have
// every prerequisite, so a skip there would hide a broken setup.
#define BERTH_REQUIRE(condition, why)                                          \
  do {                                                                         \
    if (!(condition)) {                                                        \
      if (::berth::testing::InCi()) FAIL() << "prerequisite missing: " << why; \
      GTEST_SKIP() << "prerequisite missing: " << why;                         \
    }                                                                          \
  } while (0)

bool InCi();
bool IsRoot();
// True inside the vm tier's qemu guest (kernel command line "berth.vm=1"),
// where cgroup v2 is the only hierarchy.
bool InBerthVm();

#define BERTH_REQUIRE_VM() \
  BERTH_REQUIRE(::berth::testing::InBerthVm(), "not inside the vm tier's guest (berth.vm=1)")

// A fresh directory under $TMPDIR (or /tmp), removed recursively on
// destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "berth-test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The build tree (BERTH_BINARY_DIR, set by ctest) and files in it.
std::string BinaryDir();
std::string SourceDir();
std::string BuiltBinary(const std::string& relative);  // e.g. "cmd/berth"

// TCP on 127.0.0.1 for the servers and clients tests run.
// A listening socket on an ephemeral port (its number in *port).
Result<UniqueFd> ListenLoopback(uint16_t* port, int backlog = 64);
Result<UniqueFd> ConnectLoopback(uint16_t port);
// A port that was free a moment ago (bound, then closed), for a server the
// test starts in another process.
uint16_t UnusedPort();
// send(2) until all of `data` is out (MSG_NOSIGNAL); false on an error.
bool SendAll(int fd, std::string_view data);

// Starts argv[0] (a path) with stdout and stderr appended to `log_path` and
// stdin on /dev/null, for a server a test runs in another process. The
// child gets SIGKILL when the test process dies; the guard kills it when
// dropped.
Result<ChildGuard> SpawnLogged(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace berth::testing
