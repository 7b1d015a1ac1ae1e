// berth-pause, for real: it is a static ELF under 1 MiB, it reaps orphans
// as PID 1 of a pid namespace, and SIGTERM/SIGINT make it exit 0.

#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"

namespace berth {
namespace {

using namespace std::chrono_literals;
using testing::BuiltBinary;

std::string PausePath() {
  return BuiltBinary("pause/berth-pause");
}

// Parsed from /proc/<pid>/stat: state and parent pid.
struct ProcStat {
  char state = '?';
  pid_t ppid = 0;
};

std::optional<ProcStat> ReadStat(pid_t pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return std::nullopt;
  // "pid (comm) S ppid ...": comm may contain spaces and parentheses.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  auto fields = SplitNonEmpty(std::string_view(*stat).substr(close + 1), ' ');
  if (fields.size() < 2) return std::nullopt;
  auto ppid = ParseInt<pid_t>(fields[1], "ppid");
  if (!ppid.ok()) return std::nullopt;
  return ProcStat{fields[0][0], *ppid};
}

// Host pids of the children of `parent` (live or zombie), by scanning /proc.
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  auto entries = ListDir("/proc");
  if (!entries.ok()) return out;
  for (const auto& name : *entries) {
    auto pid = ParseInt<pid_t>(name, "pid");
    if (!pid.ok()) continue;
    auto st = ReadStat(*pid);
    if (st && st->ppid == parent) out.push_back(*pid);
  }
  return out;
}

template <class Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// True once `pid` runs berth-pause and has its handlers installed: before
// that, a signal to a pid-namespace init with SIG_DFL is silently dropped.
bool PauseReady(pid_t pid) {
  auto status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  auto exe = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (!status.ok() || !exe.ok() || exe->find("berth-pause") == std::string::npos) return false;
  for (const auto& line : Split(*status, '\n')) {
    if (!line.starts_with("SigCgt:")) continue;
    auto mask = ParseInt<unsigned long long>(Trim(line.substr(7)), "SigCgt", 16);
    if (!mask.ok()) return false;
    for (int sig : {SIGINT, SIGTERM, SIGCHLD}) {
      if (!(*mask & (1ull << (sig - 1)))) return false;
    }
    return true;
  }
  return false;
}

// Starts berth-pause as PID 1 of a new pid namespace; this process is its
// parent, so it can collect the exit status.
pid_t StartPauseInNewPidNs() {
  std::string path = PausePath();
  // The raw clone(2) forks like fork(2), with a new pid namespace for the
  // child; only async-signal-safe calls follow in the child.
  long pid = ::syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) {
    char* const argv[] = {path.data(), nullptr};
    ::execv(path.c_str(), argv);
    ::_exit(127);
  }
  return static_cast<pid_t>(pid);
}

// Enters pause's pid namespace and leaves orphans there: a helper setns()es
// into it and forks a "middle" child (inside the namespace) that forks
// `quick` grandchildren which exit at once (zombies by the time their parent
// exits) and `slow` ones that exit after `slow_ms`, then exits without
// waiting for any. All of them are reparented to pause, the namespace's
// init. Returns the helper's exit code (0: every fork worked).
int MakeOrphansIn(pid_t pause_pid, int quick, int slow, int slow_ms) {
  std::string ns = "/proc/" + std::to_string(pause_pid) + "/ns/pid";
  pid_t helper = ::fork();
  if (helper < 0) return -1;
  if (helper == 0) {
    int fd = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWPID) != 0) ::_exit(10);
    pid_t middle = ::fork();
    if (middle < 0) ::_exit(11);
    if (middle == 0) {
      for (int i = 0; i < quick + slow; ++i) {
        pid_t g = ::fork();
        if (g < 0) ::_exit(12);
        if (g == 0) {
          if (i >= quick) ::usleep(slow_ms * 1000);
          ::_exit(0);
        }
      }
      ::usleep(200 * 1000);  // let the quick ones become zombies first
      ::_exit(0);
    }
    int status = 0;
    if (::waitpid(middle, &status, 0) != middle) ::_exit(13);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 14);
  }
  auto status = WaitPid(helper);
  return status.ok() ? ExitCodeFromWaitStatus(*status) : -1;
}

class PauseTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(PathExists(PausePath())) << PausePath() << " is not built"; }
};

TEST_F(PauseTest, IsStaticElfUnderOneMiB) {
  struct stat st {};
  ASSERT_EQ(::stat(PausePath().c_str(), &st), 0);
  EXPECT_LT(st.st_size, 1 << 20) << "berth-pause is " << st.st_size << " bytes";

  auto image = ReadFile(PausePath());
  ASSERT_TRUE(image.ok()) << image.error().str();
  ASSERT_GE(image->size(), sizeof(Elf64_Ehdr));
  Elf64_Ehdr eh;
  std::memcpy(&eh, image->data(), sizeof(eh));
  ASSERT_EQ(std::memcmp(eh.e_ident, ELFMAG, SELFMAG), 0) << "not an ELF file";
  ASSERT_EQ(eh.e_ident[EI_CLASS], ELFCLASS64);
  ASSERT_EQ(eh.e_phentsize, sizeof(Elf64_Phdr));
  ASSERT_LE(eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr), image->size());
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, image->data() + eh.e_phoff + i * sizeof(Elf64_Phdr), sizeof(ph));
    EXPECT_NE(ph.p_type, static_cast<Elf64_Word>(PT_INTERP)) << "dynamically linked (PT_INTERP)";
    EXPECT_NE(ph.p_type, static_cast<Elf64_Word>(PT_DYNAMIC)) << "has a dynamic section";
  }
}

TEST_F(PauseTest, PrintsVersion) {
  Command cmd;
  cmd.argv = {PausePath(), "-v"};
  cmd.timeout = 10s;
  auto r = RunCommand(cmd);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->success()) << r->Describe();
  EXPECT_TRUE(r->out.starts_with("berth-pause ")) << r->out;
}

TEST_F(PauseTest, RejectsUnknownArguments) {
  Command cmd;
  cmd.argv = {PausePath(), "--bogus"};
  cmd.timeout = 10s;
  auto r = RunCommand(cmd);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->exit_code, 2) << r->Describe();
}

// Runs pause as PID 1 of a new pid namespace, sends `sig`, expects exit 0.
void ExpectCleanExitOn(int sig, bool make_orphans) {
  BERTH_REQUIRE(testing::IsRoot(), "needs root for CLONE_NEWPID");
  pid_t pid = StartPauseInNewPidNs();
  ASSERT_GT(pid, 0) << "clone(CLONE_NEWPID): " << std::strerror(errno);
  ChildGuard guard(pid);
  ASSERT_TRUE(WaitFor([&] { return PauseReady(pid); }, 10s)) << "berth-pause never got ready";

  if (make_orphans) {
    constexpr int kQuick = 8, kSlow = 8;
    ASSERT_EQ(MakeOrphansIn(pid, kQuick, kSlow, 2000), 0) << "making orphans failed";

    // The slow orphans are now pause's children; once they exit, pause must
    // reap them (and the quick zombies) so none is left with ppid == pause.
    auto adopted = ChildrenOf(pid);
    EXPECT_GE(adopted.size(), static_cast<size_t>(kSlow)) << "orphans were not reparented to pause";
    EXPECT_TRUE(WaitFor([&] { return ChildrenOf(pid).empty(); }, 20s))
        << ChildrenOf(pid).size() << " children of pause left unreaped";
    for (pid_t p : adopted)
      EXPECT_FALSE(ReadStat(p).has_value()) << "pid " << p << " still exists";
  }

  ASSERT_EQ(::kill(pid, sig), 0);
  auto status = WaitPid(guard.release());
  ASSERT_TRUE(status.ok()) << status.error().str();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << "berth-pause ended with " << ExitCodeFromWaitStatus(*status) << " on " << strsignal(sig);
}

TEST_F(PauseTest, ReapsOrphansAsPidNamespaceInit) {
  ExpectCleanExitOn(SIGTERM, true);
}
TEST_F(PauseTest, ExitsZeroOnSigterm) {
  ExpectCleanExitOn(SIGTERM, false);
}
TEST_F(PauseTest, ExitsZeroOnSigint) {
  ExpectCleanExitOn(SIGINT, false);
}

// Outside a pid namespace (not PID 1) it still exits 0 on SIGTERM.
TEST_F(PauseTest, ExitsZeroOnSigtermWhenNotPid1) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 2);  // the "not PID 1" warning
    ::execl(PausePath().c_str(), "berth-pause", nullptr);
    ::_exit(127);
  }
  ChildGuard guard(pid);
  ASSERT_TRUE(WaitFor([&] { return PauseReady(pid); }, 10s));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  auto status = WaitPid(guard.release());
  ASSERT_TRUE(status.ok()) << status.error().str();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << ExitCodeFromWaitStatus(*status);
}

}  // namespace
}  // namespace berth
