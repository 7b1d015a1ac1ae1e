// Proves the vm tier works: the guest has a pure cgroup v2 hierarchy with
// the controllers berth needs, child cgroups can be created, limited and
// removed, and a memory limit is really enforced by the kernel.
//
// Everything here writes cgroups, so it runs only inside the harness's guest
// (kernel command line "berth.vm=1"); anywhere else it skips (fails in CI).

#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"

namespace berth {
namespace {

constexpr char kCgroupRoot[] = "/sys/fs/cgroup";
constexpr long kCgroup2SuperMagic = 0x63677270;

std::string ReadTrimmed(const std::string& path) {
  auto content = ReadFile(path);
  EXPECT_TRUE(content.ok()) << content.error().str();
  return content.ok() ? std::string(Trim(*content)) : std::string();
}

bool HasWord(const std::string& text, const std::string& word) {
  for (const auto& w : SplitNonEmpty(text, ' ')) {
    if (w == word) return true;
  }
  return false;
}

// A child cgroup of the guest's root, removed (after killing anything left
// in it) when the test ends, pass or fail.
class ScopedCgroup {
 public:
  explicit ScopedCgroup(const std::string& name) : path_(std::string(kCgroupRoot) + "/" + name) {
    if (::mkdir(path_.c_str(), 0755) != 0) {
      ADD_FAILURE() << "mkdir " << path_ << ": " << std::strerror(errno);
      path_.clear();
    }
  }
  ScopedCgroup(const ScopedCgroup&) = delete;
  ScopedCgroup& operator=(const ScopedCgroup&) = delete;
  ~ScopedCgroup() {
    if (path_.empty()) return;
    (void)WriteExisting(path_ + "/cgroup.kill", "1");
    for (int i = 0; i < 100 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i)
      ::usleep(20000);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void EnableControllers() {
  const std::string control = std::string(kCgroupRoot) + "/cgroup.subtree_control";
  auto status = WriteExisting(control, "+memory +pids +cpu");
  ASSERT_TRUE(status.ok()) << status.error().str();
  std::string enabled = ReadTrimmed(control);
  for (const char* c : {"memory", "pids", "cpu"})
    EXPECT_TRUE(HasWord(enabled, c)) << enabled;
}

TEST(VmSelftest, HarnessEnvironment) {
  BERTH_REQUIRE_VM();
  EXPECT_EQ(getuid(), 0u);
  const char* ci = std::getenv("CI");
  EXPECT_NE(ci, nullptr) << "the harness passes CI";
  EXPECT_FALSE(testing::BinaryDir().empty());
  EXPECT_TRUE(PathExists(testing::BinaryDir() + "/CMakeCache.txt")) << testing::BinaryDir();
}

TEST(VmSelftest, CgroupV2IsTheOnlyHierarchy) {
  BERTH_REQUIRE_VM();
  struct statfs fs {};
  ASSERT_EQ(::statfs(kCgroupRoot, &fs), 0) << std::strerror(errno);
  EXPECT_EQ(fs.f_type, kCgroup2SuperMagic) << "/sys/fs/cgroup is not cgroup2";

  // One unified line ("0::/..."), no v1 hierarchies.
  std::string self = ReadTrimmed("/proc/self/cgroup");
  EXPECT_EQ(Split(self, '\n').size(), 1u) << self;
  EXPECT_TRUE(self.starts_with("0::/")) << self;
  for (const auto& line : Split(ReadTrimmed("/proc/self/mounts"), '\n')) {
    auto fields = SplitNonEmpty(line, ' ');
    ASSERT_GE(fields.size(), 3u);
    EXPECT_NE(fields[2], "cgroup") << "a cgroup v1 mount: " << line;
  }
}

TEST(VmSelftest, ControllersAvailable) {
  BERTH_REQUIRE_VM();
  std::string controllers = ReadTrimmed(std::string(kCgroupRoot) + "/cgroup.controllers");
  for (const char* c : {"memory", "pids", "cpu"}) {
    EXPECT_TRUE(HasWord(controllers, c)) << "missing " << c << " in: " << controllers;
  }
}

TEST(VmSelftest, ChildCgroupLimitsAndRemoval) {
  BERTH_REQUIRE_VM();
  ASSERT_NO_FATAL_FAILURE(EnableControllers());
  std::string path;
  {
    ScopedCgroup cg("berth-vm-selftest-" + std::to_string(getpid()));
    ASSERT_FALSE(cg.path().empty());
    path = cg.path();
    auto controllers = ReadTrimmed(cg.file("cgroup.controllers"));
    EXPECT_TRUE(HasWord(controllers, "memory")) << controllers;

    ASSERT_TRUE(WriteExisting(cg.file("memory.max"), "67108864").ok());
    EXPECT_EQ(ReadTrimmed(cg.file("memory.max")), "67108864");
    ASSERT_TRUE(WriteExisting(cg.file("pids.max"), "32").ok());
    EXPECT_EQ(ReadTrimmed(cg.file("pids.max")), "32");
    ASSERT_TRUE(WriteExisting(cg.file("cpu.max"), "50000 100000").ok());
    EXPECT_EQ(ReadTrimmed(cg.file("cpu.max")), "50000 100000");
  }
  EXPECT_FALSE(PathExists(path)) << "the child cgroup was not removed";
}

// The point of the tier: limits are enforced. A child that touches 64 MiB
// in a cgroup limited to 16 MiB (no swap in the guest) is OOM-killed.
TEST(VmSelftest, MemoryMaxIsEnforced) {
  BERTH_REQUIRE_VM();
  ASSERT_NO_FATAL_FAILURE(EnableControllers());
  ScopedCgroup cg("berth-vm-oom-" + std::to_string(getpid()));
  ASSERT_FALSE(cg.path().empty());
  ASSERT_TRUE(WriteExisting(cg.file("memory.max"), "16777216").ok());
  (void)WriteExisting(cg.file("memory.swap.max"), "0");

  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    char go;
    ::close(ready[1]);
    if (::read(ready[0], &go, 1) != 1) ::_exit(2);
    constexpr size_t kSize = 64u << 20;
    auto* p = static_cast<volatile char*>(::malloc(kSize));
    if (p == nullptr) ::_exit(3);
    for (size_t i = 0; i < kSize; i += 4096)
      p[i] = 1;
    ::_exit(0);  // not killed: the limit did not hold
  }
  ::close(ready[0]);
  ChildGuard guard(child);
  auto moved = WriteExisting(cg.file("cgroup.procs"), std::to_string(child));
  ASSERT_TRUE(moved.ok()) << moved.error().str();
  ASSERT_EQ(::write(ready[1], "g", 1), 1);
  ::close(ready[1]);

  int status = 0;
  ASSERT_EQ(::waitpid(guard.release(), &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited normally with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  std::string events = ReadTrimmed(cg.file("memory.events"));
  EXPECT_NE(events.find("oom_kill 1"), std::string::npos) << events;
}

}  // namespace
}  // namespace berth
