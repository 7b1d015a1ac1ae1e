// The RuntimeDefault profile as tables: which syscalls are always allowed,
// which an architecture adds, and which a bounding capability unlocks. The
// lists follow containerd 1.7's default profile (itself Docker's).

#include "runtime/cri/spec/seccomp_default.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace berth::cri {
namespace {

namespace bj = boost::json;

// Allowed for every container, whatever its capabilities.
// clang-format off
constexpr const char* kAlwaysAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset", "chdir",
    "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64",
    "futex", "futex_time64", "futex_waitv", "futimesat", "getcpu", "getcwd", "getdents",
    "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
    "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
    "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
    "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv",
    "msgsnd", "msync", "munlock", "munlockall", "munmap", "nanosleep", "newfstatat", "_newselect",
    "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
    "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
    "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
    "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget",
    "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
    "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit",
    "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
    "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack",
    "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socket", "socketcall", "socketpair",
    "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
    "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
    "wait4", "waitid", "waitpid", "write", "writev",
    // containerd adds ptrace(2) on kernels >= 4.8 (where seccomp is checked
    // after ptrace changes a syscall); berth targets newer kernels only.
    "ptrace",
};
// clang-format on

// personality(2) values a container may set: PER_LINUX, UNAME26,
// PER_LINUX32, PER_LINUX32|UNAME26, and 0xffffffff (query).
constexpr uint64_t kPersonalities[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};

struct ArchExtra {
  const char* goarch;
  std::vector<const char*> names;
};

const ArchExtra kArchExtras[] = {
    {"ppc64le", {"sync_file_range2", "swapcontext"}},
    {"arm",
     {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
      "set_tls"}},
    {"arm64",
     {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
      "set_tls"}},
    {"amd64", {"arch_prctl", "modify_ldt"}},
    {"386", {"modify_ldt"}},
    {"s390", {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}},
    {"s390x", {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}},
    {"riscv64", {"riscv_flush_icache"}},
};

struct ArchList {
  const char* goarch;
  std::vector<const char*> arches;
};

const ArchList kArches[] = {
    {"amd64", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
    {"arm64", {"SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"}},
    {"mips64", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32"}},
    {"mips64n32", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32"}},
    {"mipsel64", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32"}},
    {"mipsel64n32", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32"}},
    {"s390x", {"SCMP_ARCH_S390", "SCMP_ARCH_S390X"}},
    {"riscv64", {"SCMP_ARCH_RISCV64"}},
};

// What each bounding capability unlocks.
struct CapRule {
  const char* capability;
  std::vector<const char*> names;
};

const CapRule kCapabilityRules[] = {
    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
    {"CAP_SYS_ADMIN",
     {"bpf",
      "clone",
      "clone3",
      "fanotify_init",
      "fsconfig",
      "fsmount",
      "fsopen",
      "fspick",
      "lookup_dcookie",
      "mount",
      "mount_setattr",
      "move_mount",
      "name_to_handle_at",
      "open_tree",
      "perf_event_open",
      "quotactl",
      "quotactl_fd",
      "setdomainname",
      "sethostname",
      "setns",
      "syslog",
      "umount",
      "umount2",
      "unshare"}},
    {"CAP_SYS_BOOT", {"reboot"}},
    {"CAP_SYS_CHROOT", {"chroot"}},
    {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
    {"CAP_SYS_PACCT", {"acct"}},
    {"CAP_SYS_PTRACE",
     {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
    {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
    {"CAP_SYSLOG", {"syslog"}},
    {"CAP_BPF", {"bpf"}},
    {"CAP_PERFMON", {"perf_event_open"}},
};

// clone(2) flags that create namespaces; without CAP_SYS_ADMIN clone is
// allowed only when none of them is set.
constexpr uint64_t kNamespaceCloneFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                                          CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                                          CLONE_NEWCGROUP;

std::string_view CompiledGoarch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "";
#endif
}

bj::object Rule(std::initializer_list<const char*> names, const char* action = "SCMP_ACT_ALLOW") {
  bj::array list;
  for (const char* n : names)
    list.emplace_back(n);
  return {{"names", std::move(list)}, {"action", action}};
}

bj::object Rule(const std::vector<const char*>& names) {
  bj::array list;
  for (const char* n : names)
    list.emplace_back(n);
  return {{"names", std::move(list)}, {"action", "SCMP_ACT_ALLOW"}};
}

bj::object ArgRule(const char* name, uint64_t index, uint64_t value, const char* op,
                   uint64_t value_two = 0) {
  bj::object arg{{"index", index}, {"value", value}};
  if (value_two != 0) arg["valueTwo"] = value_two;
  arg["op"] = op;
  bj::object rule = Rule({name});
  rule["args"] = bj::array{std::move(arg)};
  return rule;
}

void AddCapabilityRules(const std::vector<std::string>& bounding, bj::array& syscalls) {
  // In the order of the bounding set, as containerd walks it.
  for (const std::string& cap : bounding) {
    for (const CapRule& rule : kCapabilityRules) {
      if (cap == rule.capability) syscalls.push_back(Rule(rule.names));
    }
  }
}

}  // namespace

std::vector<std::string> SeccompArchitectures(std::string_view goarch) {
  if (goarch.empty()) goarch = CompiledGoarch();
  for (const ArchList& a : kArches) {
    if (goarch == a.goarch) return {a.arches.begin(), a.arches.end()};
  }
  return {};
}

boost::json::object DefaultSeccompProfile(const std::vector<std::string>& bounding,
                                          std::string_view goarch) {
  if (goarch.empty()) goarch = CompiledGoarch();
  bj::array syscalls;
  syscalls.push_back(
      Rule(std::vector<const char*>(std::begin(kAlwaysAllowed), std::end(kAlwaysAllowed))));
  for (uint64_t persona : kPersonalities)
    syscalls.push_back(ArgRule("personality", 0, persona, "SCMP_CMP_EQ"));
  for (const ArchExtra& extra : kArchExtras) {
    if (goarch == extra.goarch) syscalls.push_back(Rule(extra.names));
  }
  AddCapabilityRules(bounding, syscalls);
  bool admin = std::find(bounding.begin(), bounding.end(), "CAP_SYS_ADMIN") != bounding.end();
  if (!admin) {
    // s390 passes the clone flags in the second argument.
    uint64_t flags_arg = (goarch == "s390" || goarch == "s390x") ? 1 : 0;
    syscalls.push_back(ArgRule("clone", flags_arg, kNamespaceCloneFlags, "SCMP_CMP_MASKED_EQ"));
    bj::object clone3 = Rule({"clone3"}, "SCMP_ACT_ERRNO");
    clone3["errnoRet"] = ENOSYS;
    syscalls.push_back(std::move(clone3));
  }
  bj::array arches;
  for (const std::string& a : SeccompArchitectures(goarch))
    arches.emplace_back(a);
  return {{"defaultAction", "SCMP_ACT_ERRNO"},
          {"architectures", std::move(arches)},
          {"syscalls", std::move(syscalls)}};
}

}  // namespace berth::cri
