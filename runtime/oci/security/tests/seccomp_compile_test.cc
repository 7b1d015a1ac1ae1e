// CompileSeccomp: the program libseccomp exports plus our ENOSYS stub, checked
// by evaluating it (tests/bpf_eval.h) rather than by loading it.

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/seccomp_enosys.h"
#include "runtime/oci/security/seccomp_kernel.h"
#include "runtime/oci/security/tests/bpf_eval.h"
#include "runtime/oci/security/tests/seccomp_test_util.h"

namespace berth::runtime::security {
namespace {

using testing::Compile;
using testing::EvalSeccomp;
using testing::Profile;
using testing::SyscallData;

constexpr uint32_t kX32Bit = 0x40000000;

uint32_t Verdict(const CompiledSeccomp& c, int nr, std::vector<uint64_t> args = {},
                 uint32_t arch = AUDIT_ARCH_X86_64) {
  return EvalSeccomp(c.program, SyscallData(arch, nr, std::move(args)));
}

constexpr uint32_t Errno(int e) {
  return SECCOMP_RET_ERRNO | static_cast<uint32_t>(e);
}

TEST(SeccompCompileTest, DisabledProfileCompilesToNothing) {
  auto compiled = CompileSeccomp(SeccompProfile{});
  ASSERT_TRUE(compiled.ok());
  EXPECT_TRUE(compiled->program.empty());
  EXPECT_EQ(compiled->flags, 0u);
  EXPECT_EQ(LoadSeccomp(*compiled), 0);  // nothing to load
}

TEST(SeccompCompileTest, DenyMkdirWithEperm) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]})");
  ASSERT_FALSE(c.program.empty());
  EXPECT_EQ(c.flags, 0u);
  EXPECT_FALSE(c.uses_notify);
  EXPECT_EQ(Verdict(c, SYS_mkdir), Errno(EPERM));  // runc's default errno
  EXPECT_EQ(Verdict(c, SYS_mkdirat), Errno(EPERM));
  EXPECT_EQ(Verdict(c, SYS_getpid), SECCOMP_RET_ALLOW);
  // Architectures not in the filter get libseccomp's bad-arch action.
  EXPECT_EQ(Verdict(c, 39, {}, AUDIT_ARCH_AARCH64), SECCOMP_RET_KILL_THREAD);
}

TEST(SeccompCompileTest, ActionsAndErrnoRet) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
    "listenerPath": "/run/agent.sock", "syscalls": [
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18},
      {"names": ["rmdir"], "action": "SCMP_ACT_KILL"},
      {"names": ["unlink"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["rename"], "action": "SCMP_ACT_KILL_THREAD"},
      {"names": ["chmod"], "action": "SCMP_ACT_TRAP"},
      {"names": ["chown"], "action": "SCMP_ACT_TRACE"},
      {"names": ["fchown"], "action": "SCMP_ACT_TRACE", "errnoRet": 3},
      {"names": ["link"], "action": "SCMP_ACT_LOG"},
      {"names": ["symlink"], "action": "SCMP_ACT_NOTIFY"}]})");
  EXPECT_EQ(Verdict(c, SYS_mkdir), Errno(18));
  EXPECT_EQ(Verdict(c, SYS_rmdir), SECCOMP_RET_KILL_THREAD);
  EXPECT_EQ(Verdict(c, SYS_unlink), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(Verdict(c, SYS_rename), SECCOMP_RET_KILL_THREAD);
  EXPECT_EQ(Verdict(c, SYS_chmod), SECCOMP_RET_TRAP);
  EXPECT_EQ(Verdict(c, SYS_chown), SECCOMP_RET_TRACE | EPERM);
  EXPECT_EQ(Verdict(c, SYS_fchown), SECCOMP_RET_TRACE | 3u);
  EXPECT_EQ(Verdict(c, SYS_link), SECCOMP_RET_LOG);
  EXPECT_EQ(Verdict(c, SYS_symlink), SECCOMP_RET_USER_NOTIF);
  EXPECT_TRUE(c.uses_notify);
  EXPECT_EQ(c.flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_NEW_LISTENER));
}

TEST(SeccompCompileTest, DefaultErrnoRet) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 13,
      "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(Verdict(c, SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, SYS_getppid), Errno(13));
}

TEST(SeccompCompileTest, RuleRepeatingTheDefaultActionIsSkipped) {
  const std::string base = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"})";
  CompiledSeccomp plain = Compile(base + "]}");
  CompiledSeccomp repeated = Compile(base + R"(,
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})");
  EXPECT_EQ(plain.program.size(), repeated.program.size());
  // A different errno is a different action: kept.
  CompiledSeccomp other = Compile(base + R"(,
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 2}]})");
  EXPECT_EQ(Verdict(other, SYS_mkdir), Errno(2));
  EXPECT_EQ(Verdict(other, SYS_rmdir), Errno(EPERM));
}

TEST(SeccompCompileTest, UnknownSyscallNamesAreSkipped) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["no_such_syscall", "mkdir", "another_fake"], "action": "SCMP_ACT_ERRNO"}]})");
  EXPECT_EQ(c.unknown_syscalls, (std::vector<std::string>{"no_such_syscall", "another_fake"}));
  EXPECT_EQ(Verdict(c, SYS_mkdir), Errno(EPERM));
}

TEST(SeccompCompileTest, EveryOperator) {
  struct Case {
    const char* op;
    uint64_t value, value_two;
    uint64_t arg;
    bool matches;
  };
  const Case cases[] = {
      {"SCMP_CMP_EQ", 5, 0, 5, true},
      {"SCMP_CMP_EQ", 5, 0, 6, false},
      {"SCMP_CMP_NE", 5, 0, 6, true},
      {"SCMP_CMP_NE", 5, 0, 5, false},
      {"SCMP_CMP_LT", 5, 0, 4, true},
      {"SCMP_CMP_LT", 5, 0, 5, false},
      {"SCMP_CMP_LE", 5, 0, 5, true},
      {"SCMP_CMP_LE", 5, 0, 6, false},
      {"SCMP_CMP_GT", 5, 0, 6, true},
      {"SCMP_CMP_GT", 5, 0, 5, false},
      {"SCMP_CMP_GE", 5, 0, 5, true},
      {"SCMP_CMP_GE", 5, 0, 4, false},
      // MASKED_EQ: value is the mask, valueTwo the datum.
      {"SCMP_CMP_MASKED_EQ", 0xff, 0x12, 0xab12, true},
      {"SCMP_CMP_MASKED_EQ", 0xff, 0x12, 0x1213, false},
      // 64-bit values compare both halves.
      {"SCMP_CMP_EQ", 0x100000005, 0, 0x100000005, true},
      {"SCMP_CMP_EQ", 0x100000005, 0, 0x5, false},
  };
  for (const Case& t : cases) {
    CompiledSeccomp c = Compile(
        R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": )" +
        std::to_string(t.value) + R"(, "valueTwo": )" + std::to_string(t.value_two) +
        R"(, "op": ")" + t.op + R"("}]}]})");
    EXPECT_EQ(Verdict(c, SYS_ioctl, {0, t.arg}), t.matches ? Errno(EPERM) : SECCOMP_RET_ALLOW)
        << t.op << " value=" << t.value << " valueTwo=" << t.value_two << " arg=" << t.arg;
  }
}

TEST(SeccompCompileTest, ArgsOnDistinctIndexesAreAnded) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [
         {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
         {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]}]})");
  EXPECT_EQ(Verdict(c, SYS_kill, {1, 9}), Errno(EPERM));
  EXPECT_EQ(Verdict(c, SYS_kill, {1, 15}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, SYS_kill, {2, 9}), SECCOMP_RET_ALLOW);
}

TEST(SeccompCompileTest, ArgsOnTheSameIndexBecomeSeparateRules) {
  // runc: two conditions on one argument are OR-ed (one rule each).
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [
         {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
         {"index": 1, "value": 19, "op": "SCMP_CMP_EQ"}]}]})");
  EXPECT_EQ(Verdict(c, SYS_kill, {1, 9}), Errno(EPERM));
  EXPECT_EQ(Verdict(c, SYS_kill, {1, 19}), Errno(EPERM));
  EXPECT_EQ(Verdict(c, SYS_kill, {1, 15}), SECCOMP_RET_ALLOW);
}

TEST(SeccompCompileTest, ArchitecturesAreAdded) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"], "syscalls": [
      {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO"}]})");
  EXPECT_EQ(Verdict(c, SYS_mkdirat), Errno(EPERM));
  EXPECT_EQ(Verdict(c, 296, {}, AUDIT_ARCH_I386), Errno(EPERM));    // mkdirat on i386
  EXPECT_EQ(Verdict(c, 34, {}, AUDIT_ARCH_AARCH64), Errno(EPERM));  // mkdirat on arm64
  EXPECT_EQ(Verdict(c, 39, {}, AUDIT_ARCH_AARCH64), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, 39, {}, AUDIT_ARCH_PPC64LE), SECCOMP_RET_KILL_THREAD);
}

TEST(SeccompCompileTest, EnosysStubAnswersSyscallsNewerThanTheProfile) {
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"], "syscalls": [
      {"names": ["write", "getpid", "exit_group"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(Verdict(c, SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, SYS_getppid), Errno(EPERM));  // below exit_group (231)
  EXPECT_EQ(Verdict(c, SYS_exit_group), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, 232), Errno(ENOSYS));  // above it
  EXPECT_EQ(Verdict(c, 435), Errno(ENOSYS));  // clone3
  // x32 numbers are measured against the x32 maximum.
  EXPECT_EQ(Verdict(c, kX32Bit | SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, kX32Bit | 435), Errno(ENOSYS));
  EXPECT_EQ(Verdict(c, kX32Bit | SYS_getppid), Errno(EPERM));
}

TEST(SeccompCompileTest, EnosysStubOnlyForListedArchitectures) {
  // As runc: without architectures there is no stub.
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(Verdict(c, 435), Errno(EPERM));
  // x86_64 listed alone: x32 numbers go to the filter (bad arch).
  CompiledSeccomp native = Compile(R"({"defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(Verdict(native, 435), Errno(ENOSYS));
  EXPECT_EQ(Verdict(native, kX32Bit | 435), SECCOMP_RET_KILL_THREAD);
}

TEST(SeccompCompileTest, NoEnosysStubForPermissiveDefaultsOrEnosysDefault) {
  for (const char* def : {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"}) {
    SeccompProfile p = Profile(std::string(R"({"defaultAction": ")") + def +
                               R"(", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
        {"names": ["getpid"], "action": "SCMP_ACT_KILL"}]})");
    auto stub = BuildEnosysStub(p);
    ASSERT_TRUE(stub.ok());
    EXPECT_TRUE(stub->empty()) << def;
  }
  SeccompProfile enosys = Profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_TRUE(BuildEnosysStub(enosys)->empty());
  SeccompProfile kill = Profile(R"({"defaultAction": "SCMP_ACT_KILL_PROCESS",
      "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_FALSE(BuildEnosysStub(kill)->empty());
}

TEST(SeccompCompileTest, HighestProfileSyscallsPerArchitecture) {
  SeccompProfile p = Profile(R"({"defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"], "syscalls": [
      {"names": ["read", "exit_group", "not_a_syscall"], "action": "SCMP_ACT_ALLOW"}]})");
  std::vector<ArchSyscallMax> maxima = HighestProfileSyscalls(p);
  ASSERT_EQ(maxima.size(), 2u);  // duplicates folded
  EXPECT_EQ(maxima[0].audit_arch, AUDIT_ARCH_X86_64);
  EXPECT_EQ(maxima[0].max_nr, static_cast<uint32_t>(SYS_exit_group));
  EXPECT_EQ(maxima[1].audit_arch, AUDIT_ARCH_I386);
  EXPECT_EQ(maxima[1].max_nr, 252u);  // exit_group on i386
}

TEST(SeccompCompileTest, Flags) {
  CompiledSeccomp log = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]})");
  EXPECT_EQ(log.flags,
            static_cast<unsigned>(SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                                  SECCOMP_FILTER_FLAG_TSYNC));
  // WAIT_KILLABLE_RECV only means something with a listener.
  CompiledSeccomp no_listener = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
      "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]})");
  EXPECT_EQ(no_listener.flags, 0u);
  if (KernelAcceptsSeccompFlags(SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
    CompiledSeccomp notify = Compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/s", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_TSYNC"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
    EXPECT_EQ(notify.flags,
              static_cast<unsigned>(SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV |
                                    SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
  }
}

TEST(SeccompCompileTest, ManyRulesUseTheBinaryTree) {
  std::string names;
  for (const char* n :
       {"read",      "write",   "open",      "close",       "stat",     "fstat",
        "lstat",     "poll",    "lseek",     "mmap",        "mprotect", "munmap",
        "brk",       "ioctl",   "pread64",   "pwrite64",    "readv",    "writev",
        "access",    "pipe",    "select",    "sched_yield", "mremap",   "msync",
        "mincore",   "madvise", "dup",       "dup2",        "pause",    "nanosleep",
        "getitimer", "alarm",   "setitimer", "getpid",      "sendfile", "exit_group"}) {
    names += std::string(names.empty() ? "" : ",") + "\"" + n + "\"";
  }
  CompiledSeccomp c = Compile(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
      {"names": [)" + names + R"(], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(Verdict(c, SYS_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, SYS_exit_group), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, SYS_getppid), Errno(EPERM));
  EXPECT_EQ(Verdict(c, SYS_socket), Errno(EPERM));
}

TEST(SeccompCompileTest, HandBuiltProfilesAreValidatedToo) {
  SeccompProfile p;
  p.default_action = "SCMP_ACT_ALLOW";
  p.syscalls.push_back({{"read"}, "SCMP_ACT_BOGUS", std::nullopt, {}});
  auto compiled = CompileSeccomp(p);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().str(),
            "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_BOGUS\"");
  p.syscalls[0] = {{"read"}, "SCMP_ACT_ERRNO", std::nullopt, {{0, 1, 0, "SCMP_CMP_NOPE"}}};
  compiled = CompileSeccomp(p);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().str(),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_NOPE\"");
  p.syscalls.clear();
  p.architectures = {"SCMP_ARCH_PDP11"};
  compiled = CompileSeccomp(p);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().str(),
            "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_PDP11\"");
}

TEST(SeccompCompileTest, FixtureAllowlistCompiles) {
  auto text = ReadFile(::berth::testing::SourceDir() +
                       "/runtime/oci/security/tests/fixtures/allowlist-busybox.json");
  ASSERT_TRUE(text.ok()) << text.error().str();
  CompiledSeccomp c = Compile(*text);
  EXPECT_EQ(Verdict(c, SYS_execve), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, SYS_write), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(c, SYS_mkdir), Errno(EPERM));
  EXPECT_EQ(Verdict(c, SYS_socket), Errno(EPERM));
  EXPECT_EQ(Verdict(c, 1000), Errno(ENOSYS));
  // The i386 and x32 ABIs get the same list and their own ENOSYS bound.
  EXPECT_EQ(Verdict(c, 11, {}, AUDIT_ARCH_I386), SECCOMP_RET_ALLOW);  // execve
  EXPECT_EQ(Verdict(c, 39, {}, AUDIT_ARCH_I386), Errno(EPERM));       // mkdir
  EXPECT_EQ(Verdict(c, 1000, {}, AUDIT_ARCH_I386), Errno(ENOSYS));
  EXPECT_EQ(Verdict(c, kX32Bit | 520), SECCOMP_RET_ALLOW);  // x32 execve
  EXPECT_EQ(Verdict(c, kX32Bit | SYS_mkdir), Errno(EPERM));
  EXPECT_EQ(Verdict(c, kX32Bit | 1000), Errno(ENOSYS));
  EXPECT_EQ(Verdict(c, 11, {}, AUDIT_ARCH_AARCH64), SECCOMP_RET_KILL_THREAD);
}

}  // namespace
}  // namespace berth::runtime::security
