#include "cni/client/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "common/strings.h"
#include "common/time.h"

namespace berth::cni {
namespace {

SpawnRequest Shell(const std::string& script) {
  SpawnRequest req;
  req.path = "/bin/sh";
  req.argv = {"sh", "-c", script};
  req.env = {"PATH=/usr/bin:/bin"};
  req.timeout = std::chrono::milliseconds(10'000);
  return req;
}

TEST(Spawn, StdinStdoutStderrAndStatus) {
  SpawnRequest req = Shell("read x; echo out:$x; echo err >&2; exit 3");
  req.stdin_data = "hello\n";
  auto r = SpawnAndWait(req);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out:hello\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_FALSE(r->success());
}

TEST(Spawn, LargeStdinAndOutput) {
  SpawnRequest req = Shell("cat");
  req.stdin_data = std::string(3 << 20, 'x');
  auto r = SpawnAndWait(req);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->success());
  EXPECT_EQ(r->out.size(), req.stdin_data.size());
}

TEST(Spawn, UnreadStdinDoesNotRaiseSigpipe) {
  struct sigaction before {};
  sigaction(SIGPIPE, nullptr, &before);
  SpawnRequest req = Shell("exit 0");
  req.stdin_data = std::string(4 << 20, 'x');
  auto r = SpawnAndWait(req);  // a SIGPIPE escaping here would kill the test
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->success());
  struct sigaction after {};
  sigaction(SIGPIPE, nullptr, &after);
  EXPECT_EQ(before.sa_handler, after.sa_handler) << "SIGPIPE disposition changed";
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST(Spawn, CleanChildState) {
  // A leaked fd, a blocked signal and an ignored one in the parent...
  int leaked = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
  ASSERT_GE(leaked, 3);
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  struct sigaction ign {
  }, old_usr1{};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGUSR1, &ign, &old_usr1);

  auto r = SpawnAndWait(
      Shell("ls /proc/self/fd | tr '\\n' ' '; echo; cut -d' ' -f5 /proc/$$/stat; echo $$"));
  SpawnRequest status_req;
  status_req.path = "/bin/grep";
  status_req.argv = {"grep", "-E", "^(SigBlk|SigIgn)", "/proc/self/status"};
  auto status = SpawnAndWait(status_req);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  ::close(leaked);
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_TRUE(status.ok()) << status.error().str();
  std::vector<std::string> lines = SplitNonEmpty(r->out, '\n');
  ASSERT_EQ(lines.size(), 3u) << r->out;
  // ...do not reach the child: only stdio (and ls's own directory fd).
  EXPECT_EQ(lines[0], "0 1 2 3 ") << "fds: " << lines[0];
  std::vector<std::string> sig = SplitNonEmpty(status->out, '\n');
  ASSERT_EQ(sig.size(), 2u) << status->out;
  EXPECT_EQ(sig[0], "SigBlk:\t0000000000000000");
  auto ignored = ParseInt<uint64_t>(sig[1].substr(8), "SigIgn", 16);
  ASSERT_TRUE(ignored.ok()) << sig[1];
  EXPECT_EQ(*ignored & (uint64_t{1} << (SIGUSR1 - 1)), 0u) << sig[1];
  // Its own process group.
  EXPECT_EQ(lines[1], lines[2]);
}

TEST(Spawn, TimeoutKillsTheProcessGroup) {
  SpawnRequest req = Shell("sleep 30 & echo $!; wait");
  req.timeout = std::chrono::milliseconds(300);
  int64_t start = MonotonicNanos();
  auto r = SpawnAndWait(req);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->timed_out);
  EXPECT_LT(MonotonicNanos() - start, 5'000'000'000);
  auto pid = ParseInt<pid_t>(r->out, "grandchild pid");
  ASSERT_TRUE(pid.ok()) << r->out;
  // The background sleep was in the group: gone (or a zombie awaiting init).
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::string stat = "/proc/" + std::to_string(*pid) + "/stat";
    FILE* f = fopen(stat.c_str(), "r");
    if (!f) {
      gone = true;
      break;
    }
    char line[512] = {};
    gone = fgets(line, sizeof line, f) && std::string(line).find(") Z") != std::string::npos;
    fclose(f);
    if (!gone) usleep(10'000);
  }
  EXPECT_TRUE(gone);
}

TEST(Spawn, ExitIsSeenEvenWhenAGrandchildHoldsStdout) {
  SpawnRequest req = Shell("sleep 3 & echo $!; echo done");
  int64_t start = MonotonicNanos();
  auto r = SpawnAndWait(req);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_TRUE(r->success());
  EXPECT_LT(MonotonicNanos() - start, 2'000'000'000);
  std::vector<std::string> lines = SplitNonEmpty(r->out, '\n');
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "done");
  if (auto pid = ParseInt<pid_t>(lines[0], "pid"); pid.ok()) ::kill(*pid, SIGKILL);
}

TEST(Spawn, MissingExecutableIsAnError) {
  SpawnRequest req;
  req.path = "/nonexistent/plugin";
  auto r = SpawnAndWait(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_NE(r.error().str().find("/nonexistent/plugin"), std::string::npos);
}

}  // namespace
}  // namespace berth::cni
