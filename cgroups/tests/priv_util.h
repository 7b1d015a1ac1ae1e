#pragma once
// Helpers for the tests that create real cgroups (priv on this host, vm in
// the cgroup v2 guest). Safety: every cgroup is made below a test root that
// the test itself creates beneath its own cgroup (or, in the guest, below
// the root); TestRoot's destructor kills what runs inside it (only
// processes the test started can be there) and removes it, also when the
// test fails.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <set>
#include <string>

#include "cgroups/cgroupfs.h"
#include "cgroups/cgroups.h"
#include "cgroups/tests/test_util.h"
#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"

namespace berth::cgroups::testing {

inline std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

// The directories that exist next to where the test root will be, per
// hierarchy: after the test they must be exactly the same again.
inline std::map<std::string, std::set<std::string>> SiblingDirs(const Placement& p) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [key, root] : p.roots) {
    std::string parent = Dirname(root);
    Result<std::vector<std::string>> names = ListDir(parent);
    if (!names.ok()) continue;
    for (const std::string& n : *names) {
      if (::access(PathJoin(PathJoin(parent, n), "cgroup.procs").c_str(), F_OK) == 0) {
        out[key].insert(n);
      }
    }
  }
  return out;
}

// Owns the berth roots of one placement (one per hierarchy).
class TestRoot {
 public:
  explicit TestRoot(const Placement& p) : placement_(p), before_(SiblingDirs(p)) {
    for (const auto& [key, root] : p.roots) {
      before_[key].erase(Basename(root));  // it may not exist yet
    }
  }
  TestRoot(const TestRoot&) = delete;
  TestRoot& operator=(const TestRoot&) = delete;
  ~TestRoot() { Cleanup(); }

  void Cleanup() {
    std::set<std::string> done;
    for (const auto& [key, root] : placement_.roots) {
      if (!done.insert(root).second || !PathExists(root)) continue;
      // Only processes this test started can be in its own root.
      Result<std::vector<pid_t>> pids = ReadProcsRecursive(root);
      if (pids.ok()) (void)SignalPids(*pids, SIGKILL);
      (void)WriteKnob(root, "cgroup.freeze", "0");
      (void)WriteKnob(root, "freezer.state", "THAWED");
      Status s = RemoveCgroup(root);
      EXPECT_TRUE(s.ok()) << "cleanup: " << s.error().str();
    }
  }

  // After cleanup: the roots are gone, nothing this process named is left
  // next to them, and nothing that was there before went missing (other
  // processes may add their own cgroups meanwhile).
  void ExpectNothingLeft() {
    Cleanup();
    std::string mine = "-" + std::to_string(::getpid()) + "-";
    std::map<std::string, std::set<std::string>> after = SiblingDirs(placement_);
    for (const auto& [key, names] : after) {
      for (const std::string& n : names) {
        EXPECT_EQ(n.find(mine), std::string::npos) << key << ": left behind " << n;
      }
      for (const std::string& n : before_[key]) {
        EXPECT_EQ(names.count(n), 1u) << key << ": " << n << " disappeared";
      }
    }
    for (const auto& [key, root] : placement_.roots)
      EXPECT_FALSE(PathExists(root)) << root;
  }

 private:
  Placement placement_;
  std::map<std::string, std::set<std::string>> before_;
};

// A forked child that waits for a byte on a pipe, then runs `body` and exits
// with its return value. Killed and reaped on destruction (ChildGuard).
class Child {
 public:
  explicit Child(std::function<int()> body = [] {
    ::pause();
    return 0;
  }) {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[1]);
      char c;
      if (::read(fds[0], &c, 1) != 1) _exit(100);
      _exit(body());
    }
    ::close(fds[0]);
    go_ = fds[1];
    guard_ = ChildGuard(pid);
  }
  ~Child() {
    if (go_ >= 0) ::close(go_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return guard_.get(); }
  void Go() {
    ASSERT_EQ(::write(go_, "g", 1), 1);
    ::close(go_);
    go_ = -1;
  }
  // Waits for the exit; returns the wait status (or -1).
  int Wait() {
    pid_t pid = guard_.release();
    Result<int> status = WaitPid(pid);
    return status.ok() ? *status : -1;
  }

 private:
  int go_ = -1;
  ChildGuard guard_;
};

// /proc/<pid>/cgroup as a key -> path map.
inline std::map<std::string, std::string> ProcCgroup(pid_t pid) {
  Result<std::string> text = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  EXPECT_TRUE(text.ok());
  Result<std::map<std::string, std::string>> m = ParseProcCgroup(text.ok() ? *text : "");
  EXPECT_TRUE(m.ok());
  return m.ok() ? *m : std::map<std::string, std::string>{};
}

// Polls `done` for up to `ms` milliseconds.
inline bool WaitFor(const std::function<bool()>& done, int ms = 5000) {
  for (int i = 0; i < ms / 10; ++i) {
    if (done()) return true;
    SleepMs(10);
  }
  return done();
}

// A counter the child bumps in shared memory (to see freezing work).
class SharedCounter {
 public:
  SharedCounter() {
    void* p = ::mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    value_ = new (p) std::atomic<uint64_t>(0);  // lock-free: valid across processes
  }
  ~SharedCounter() { ::munmap(value_, sizeof(*value_)); }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  void Bump() { value_->fetch_add(1, std::memory_order_relaxed); }
  uint64_t Get() const { return value_->load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t>* value_;
};

// A Child body: forks a grandchild that waits, then spins bumping `counter`
// (a frozen cgroup shows as the counter standing still).
inline std::function<int()> SpinWithGrandchild(SharedCounter& counter) {
  return [&counter] {
    if (::fork() == 0) {
      ::pause();
      _exit(0);
    }
    for (;;)
      counter.Bump();
    return 0;
  };
}

}  // namespace berth::cgroups::testing
