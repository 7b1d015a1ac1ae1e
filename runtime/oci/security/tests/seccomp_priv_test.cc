// Seccomp filters loaded for real, each in a forked child.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/fd.h"
#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/seccomp_kernel.h"
#include "runtime/oci/security/tests/child.h"
#include "runtime/oci/security/tests/seccomp_test_util.h"

namespace berth::runtime::security {
namespace {

using testing::Compile;
using testing::Complain;
using testing::Fail;
using testing::FailWith;
using testing::Report;
using testing::RunInChild;

class SeccompPrivTest : public ::testing::Test {
 protected:
  void SetUp() override { BERTH_REQUIRE(::berth::testing::IsRoot(), "root"); }
};

// Child side: no core files from SIGSYS, no_new_privs, then the filter.
// Returns LoadSeccomp's result.
int NoNewPrivsAndLoad(const CompiledSeccomp& c) {
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  return LoadSeccomp(c);
}

std::string Fixture(const std::string& name) {
  auto text =
      ReadFile(::berth::testing::SourceDir() + "/runtime/oci/security/tests/fixtures/" + name);
  EXPECT_TRUE(text.ok()) << text.error().str();
  return text.ok() ? *text : "";
}

TEST_F(SeccompPrivTest, MkdirFailsWithEpermWhileOtherSyscallsWork) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]})");
  ::berth::testing::TempDir dir("security-seccomp");
  std::string target = dir / "blocked";
  auto outcome = RunInChild([&](int fd) {
    if (int rc = NoNewPrivsAndLoad(c); rc != 0) return FailWith(fd, -rc, "load");
    if (mkdir(target.c_str(), 0755) == 0) return Complain(fd, "mkdir succeeded");
    if (errno != EPERM) return Fail(fd, "mkdir: expected EPERM");
    if (syscall(SYS_mkdirat, AT_FDCWD, target.c_str(), 0755) == 0 || errno != EPERM) {
      return Fail(fd, "mkdirat: expected EPERM");
    }
    int file = open((target + ".file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (file < 0) return Fail(fd, "open");
    close(file);
    if (getpid() <= 0) return Fail(fd, "getpid");
    Report(fd, "ok");
    return 0;
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
  EXPECT_FALSE(PathExists(target));
  EXPECT_TRUE(PathExists(target + ".file"));
}

TEST_F(SeccompPrivTest, LoadWithoutNoNewPrivsNeedsCapSysAdmin) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]})");
  auto with_admin = RunInChild([&](int fd) {
    int rc = LoadSeccomp(c);  // root: CAP_SYS_ADMIN, no NNP needed
    if (rc != 0) return FailWith(fd, -rc, "load as root");
    return 0;
  });
  EXPECT_TRUE(with_admin.ok()) << with_admin.Describe();
  auto without_admin = RunInChild([&](int fd) {
    cap_t caps = cap_get_proc();
    cap_value_t admin = CAP_SYS_ADMIN;
    cap_set_flag(caps, CAP_EFFECTIVE, 1, &admin, CAP_CLEAR);
    if (cap_set_proc(caps) != 0) return Fail(fd, "cap_set_proc");
    cap_free(caps);
    int rc = LoadSeccomp(c);
    if (rc != -EACCES) return Complain(fd, "LoadSeccomp: " + std::to_string(rc));
    return 0;
  });
  EXPECT_TRUE(without_admin.ok()) << without_admin.Describe();
}

TEST_F(SeccompPrivTest, BusyboxAllowlistRunsEchoOk) {
  CompiledSeccomp c = Compile(Fixture("allowlist-busybox.json"));
  ASSERT_FALSE(c.program.empty());
  auto run = [&](std::vector<const char*> argv) {
    return RunInChild([&](int fd) {
      dup2(fd, 1);
      dup2(fd, 2);
      argv.push_back(nullptr);
      if (int rc = NoNewPrivsAndLoad(c); rc != 0) return FailWith(fd, -rc, "load");
      execv("/bin/busybox", const_cast<char* const*>(argv.data()));
      return Fail(fd, "execv /bin/busybox");
    });
  };
  auto echo = run({"busybox", "sh", "-c", "echo ok"});
  EXPECT_TRUE(echo.ok()) << echo.Describe();
  EXPECT_EQ(echo.output, "ok\n");
  // A pipeline and a child process still work...
  auto pipeline = run({"busybox", "sh", "-c", "busybox echo hello | busybox cat; echo $?"});
  EXPECT_TRUE(pipeline.ok()) << pipeline.Describe();
  EXPECT_EQ(pipeline.output, "hello\n0\n");
  // ...while what the list leaves out gets the default action (EPERM).
  ::berth::testing::TempDir dir("security-allowlist");
  auto denied = run({"busybox", "mkdir", (dir / "x").c_str()});
  EXPECT_EQ(denied.exit_code, 1) << denied.Describe();
  EXPECT_NE(denied.output.find("Operation not permitted"), std::string::npos) << denied.output;
  EXPECT_FALSE(PathExists(dir / "x"));
}

TEST_F(SeccompPrivTest, SyscallsNewerThanTheProfileGetEnosys) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
      {"names": ["write", "exit_group", "getpid"], "action": "SCMP_ACT_ALLOW"}]})");
  // After the filter the child may only write and exit: it allocates nothing.
  auto outcome = RunInChild([&](int fd) {
    if (NoNewPrivsAndLoad(c) != 0) return 10;
    if (syscall(SYS_getppid) != -1 || errno != EPERM) return 11;  // below exit_group
    if (syscall(SYS_pidfd_open, getpid(), 0) != -1 || errno != ENOSYS) return 12;
    if (syscall(1000) != -1 || errno != ENOSYS) return 13;
    (void)!write(fd, "ok\n", 3);
    return 0;
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
  EXPECT_EQ(outcome.output, "ok\n");
}

TEST_F(SeccompPrivTest, MaskedEqAndAndedArgs) {
  // dup3(0, newfd, flags): EXDEV when oldfd == 0 AND (flags & O_CLOEXEC) == O_CLOEXEC.
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["dup3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18, "args": [
        {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
        {"index": 2, "value": 524288, "valueTwo": 524288, "op": "SCMP_CMP_MASKED_EQ"}]}]})");
  auto outcome = RunInChild([&](int fd) {
    if (int rc = NoNewPrivsAndLoad(c); rc != 0) return FailWith(fd, -rc, "load");
    if (dup3(0, 100, O_CLOEXEC) != -1 || errno != EXDEV) return Fail(fd, "dup3(0, O_CLOEXEC)");
    if (dup3(0, 101, 0) != 101) return Fail(fd, "dup3(0, 0)");
    if (dup3(1, 102, O_CLOEXEC) != 102) return Fail(fd, "dup3(1, O_CLOEXEC)");
    Report(fd, "ok");
    return 0;
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
}

void* CallGetppid(void*) {
  syscall(SYS_getppid);
  return nullptr;
}

TEST_F(SeccompPrivTest, KillProcessKillsTheWholeProcess) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]})");
  auto outcome = RunInChild([&](int fd) {
    if (int rc = NoNewPrivsAndLoad(c); rc != 0) return FailWith(fd, -rc, "load");
    // A second thread makes the call; the main thread dies with it.
    pthread_t thread;
    pthread_create(&thread, nullptr, &CallGetppid, nullptr);
    pthread_join(thread, nullptr);
    sleep(5);
    return Complain(fd, "still alive");
  });
  EXPECT_EQ(outcome.signal, SIGSYS) << outcome.Describe();
}

TEST_F(SeccompPrivTest, KillAndTrapActions) {
  for (const char* action : {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"}) {
    CompiledSeccomp c = Compile(std::string(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": ")") +
                                action + R"("}]})");
    auto outcome = RunInChild([&](int fd) {
      if (int rc = NoNewPrivsAndLoad(c); rc != 0) return FailWith(fd, -rc, "load");
      syscall(SYS_getppid);
      return Complain(fd, "still alive");
    });
    EXPECT_EQ(outcome.signal, SIGSYS) << action << ": " << outcome.Describe();
  }
}

// Parent side of the notify test: receives the listener over `sock`, answers
// the child's mkdir with EXDEV. Returns "" or what went wrong.
std::string AnswerNotification(int sock, int expected_nr) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  pollfd p{sock, POLLIN, 0};
  if (poll(&p, 1, 10000) != 1 || recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
    return "no listener fd";
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  if (cm == nullptr || cm->cmsg_type != SCM_RIGHTS) return "no SCM_RIGHTS";
  int raw;
  std::memcpy(&raw, CMSG_DATA(cm), sizeof raw);
  UniqueFd listener(raw);
  pollfd n{listener.get(), POLLIN, 0};
  if (poll(&n, 1, 10000) != 1) return "no notification";
  seccomp_notif req{};
  if (ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return "NOTIF_RECV failed";
  if (req.data.nr != expected_nr) return "notified of syscall " + std::to_string(req.data.nr);
  seccomp_notif_resp resp{};
  resp.id = req.id;
  resp.error = -EXDEV;
  if (ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) return "NOTIF_SEND failed";
  return "";
}

// Child side: sends the listener fd to the parent.
bool SendFd(int sock, int fd_to_send) {
  char byte = 'x';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cm), &fd_to_send, sizeof fd_to_send);
  return sendmsg(sock, &msg, 0) == 1;
}

void RunNotifyScenario(const std::string& flags) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "listenerPath": "/run/unused.sock", "flags": [)" +
                              flags + R"(], "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  ASSERT_TRUE(c.uses_notify);
  ASSERT_TRUE(c.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd parent_sock(pair[0]), child_sock(pair[1]);
  std::string parent_error = "not run";
  auto outcome = RunInChild(
      [&](int fd) {
        int listener = NoNewPrivsAndLoad(c);
        if (listener < 0) return FailWith(fd, -listener, "load");
        char link[64] = {};
        std::string self = "/proc/self/fd/" + std::to_string(listener);
        if (readlink(self.c_str(), link, sizeof link - 1) < 0) return Fail(fd, "readlink");
        if (std::string(link) != "anon_inode:seccomp notify") return Complain(fd, link);
        if ((fcntl(listener, F_GETFD) & FD_CLOEXEC) == 0) return Complain(fd, "not CLOEXEC");
        if (!SendFd(child_sock.get(), listener)) return Fail(fd, "sendmsg");
        close(listener);
        if (syscall(SYS_mkdir, "/nonexistent-berth-notify", 0755) != -1 || errno != EXDEV) {
          return Fail(fd, "mkdir: expected the agent's EXDEV");
        }
        Report(fd, "ok");
        return 0;
      },
      std::chrono::seconds(20),
      [&](pid_t) {
        child_sock.reset();
        parent_error = AnswerNotification(parent_sock.get(), SYS_mkdir);
      });
  EXPECT_EQ(parent_error, "");
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
}

TEST_F(SeccompPrivTest, NotifyReturnsAWorkingListenerFd) {
  RunNotifyScenario("");
}

TEST_F(SeccompPrivTest, NotifyWithTsyncAndWaitKillableRecv) {
  unsigned wait_killable =
      SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  BERTH_REQUIRE(KernelAcceptsSeccompFlags(wait_killable), "kernel >= 5.19");
  RunNotifyScenario(
      R"("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_LOG")");
}

TEST_F(SeccompPrivTest, FlagsLoad) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_LOG"}]})");
  auto outcome = RunInChild([&](int fd) {
    if (int rc = NoNewPrivsAndLoad(c); rc != 0) return FailWith(fd, -rc, "load");
    auto status = ReadFile("/proc/self/status");
    if (!status || status->find("Seccomp:\t2") == std::string::npos) {
      return Complain(fd, "not in filter mode");
    }
    return 0;
  });
  EXPECT_TRUE(outcome.ok()) << outcome.Describe();
}

}  // namespace
}  // namespace berth::runtime::security
