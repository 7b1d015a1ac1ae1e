// The RuntimeDefault profile's tables, and that berth's seccomp compiler
// takes the profile as it is.

#include "runtime/oci/security/seccomp.h"

#include <sched.h>

#include <cerrno>

#include "common/json.h"
#include "runtime/cri/spec/capabilities.h"
#include "runtime/cri/spec/seccomp_default.h"
#include "runtime/cri/spec/tests/spec_test_util.h"

namespace berth::cri::testing {
namespace {

using Strs = std::vector<std::string>;

const bj::object* RuleWithArgs(const bj::object& profile, std::string_view name) {
  for (const bj::value& r : profile.at("syscalls").as_array()) {
    const bj::object& rule = r.as_object();
    if (rule.contains("args") && rule.at("names").as_array()[0].as_string() == name) return &rule;
  }
  return nullptr;
}

const bj::object* ErrnoRule(const bj::object& profile, std::string_view name) {
  for (const bj::value& r : profile.at("syscalls").as_array()) {
    const bj::object& rule = r.as_object();
    if (rule.at("action").as_string() == "SCMP_ACT_ERRNO" &&
        rule.at("names").as_array()[0].as_string() == name) {
      return &rule;
    }
  }
  return nullptr;
}

TEST(DefaultSeccomp, ArchitecturesPerGoarch) {
  EXPECT_EQ(SeccompArchitectures("amd64"),
            (Strs{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_EQ(SeccompArchitectures("arm64"), (Strs{"SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"}));
  EXPECT_EQ(SeccompArchitectures("s390x"), (Strs{"SCMP_ARCH_S390", "SCMP_ARCH_S390X"}));
  EXPECT_EQ(SeccompArchitectures("riscv64"), (Strs{"SCMP_ARCH_RISCV64"}));
  EXPECT_TRUE(SeccompArchitectures("sparc").empty());
  EXPECT_FALSE(SeccompArchitectures("").empty());  // this host
}

TEST(DefaultSeccomp, ShapeForTheDefaultCapabilities) {
  bj::object p = DefaultSeccompProfile(DefaultCapabilities(), "amd64");
  EXPECT_EQ(p.at("defaultAction").as_string(), "SCMP_ACT_ERRNO");
  EXPECT_FALSE(p.contains("defaultErrnoRet"));  // EPERM, the runtime's default
  Strs allowed = AllowedSyscalls(p);
  for (const char* name : {"read", "write", "openat", "futex", "clone3" /* no: errno rule */}) {
    if (std::string_view(name) == "clone3") {
      EXPECT_FALSE(Contains(allowed, name));
    } else {
      EXPECT_TRUE(Contains(allowed, name)) << name;
    }
  }
  for (const char* name : {"arch_prctl", "modify_ldt", "chroot", "ptrace"})
    EXPECT_TRUE(Contains(allowed, name)) << name;  // amd64 extras, CAP_SYS_CHROOT
  for (const char* name : {"mount", "unshare", "setns", "bpf", "reboot", "kexec_load",
                           "init_module", "keyctl", "add_key", "userfaultfd"}) {
    EXPECT_FALSE(Contains(allowed, name)) << name;
  }
  const bj::object* clone = RuleWithArgs(p, "clone");
  ASSERT_NE(clone, nullptr);
  EXPECT_EQ(clone->at("args"),
            (bj::array{bj::object{
                {"index", 0u},
                {"value",
                 static_cast<uint64_t>(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                       CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)},
                {"op", "SCMP_CMP_MASKED_EQ"}}}));
  const bj::object* clone3 = ErrnoRule(p, "clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->at("errnoRet").to_number<int>(), ENOSYS);
  int personalities = 0;
  for (const bj::value& r : p.at("syscalls").as_array())
    personalities += r.as_object().at("names").as_array()[0].as_string() == "personality";
  EXPECT_EQ(personalities, 5);
}

TEST(DefaultSeccomp, CapabilitiesUnlockTheirSyscalls) {
  struct Case {
    const char* capability;
    Strs unlocked;
  } cases[] = {
      {"CAP_SYS_ADMIN", {"mount", "umount2", "unshare", "setns", "clone", "clone3", "bpf"}},
      {"CAP_SYS_PTRACE", {"kcmp", "process_vm_readv", "pidfd_getfd"}},
      {"CAP_SYS_MODULE", {"init_module", "finit_module", "delete_module"}},
      {"CAP_SYS_TIME", {"settimeofday", "clock_settime"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
  };
  for (const Case& c : cases) {
    bj::object p = DefaultSeccompProfile({c.capability}, "amd64");
    for (const std::string& name : c.unlocked)
      EXPECT_TRUE(Contains(AllowedSyscalls(p), name)) << c.capability << " " << name;
  }
  bj::object admin = DefaultSeccompProfile({"CAP_SYS_ADMIN"}, "amd64");
  EXPECT_EQ(RuleWithArgs(admin, "clone"), nullptr);
  EXPECT_EQ(ErrnoRule(admin, "clone3"), nullptr);
}

TEST(DefaultSeccomp, ArchSpecifics) {
  bj::object s390 = DefaultSeccompProfile({}, "s390x");
  EXPECT_EQ(RuleWithArgs(s390, "clone")
                ->at("args")
                .as_array()[0]
                .as_object()
                .at("index")
                .to_number<int>(),
            1);
  EXPECT_TRUE(Contains(AllowedSyscalls(s390), "s390_runtime_instr"));
  bj::object arm = DefaultSeccompProfile({}, "arm64");
  EXPECT_TRUE(Contains(AllowedSyscalls(arm), "set_tls"));
  EXPECT_FALSE(Contains(AllowedSyscalls(arm), "arch_prctl"));
}

// The profile goes through the runtime's parser and libseccomp as is, for
// the default capabilities and for all of them (where rules repeat names).
TEST(DefaultSeccomp, CompilesWithTheRuntime) {
  for (const Strs& caps : {DefaultCapabilities(), AllCapabilities(), Strs{}}) {
    bj::value profile = DefaultSeccompProfile(caps);
    auto parsed = runtime::security::ParseSeccomp(json::Field(&profile, "linux.seccomp"));
    ASSERT_TRUE(parsed.ok()) << parsed.error().str();
    auto compiled = runtime::security::CompileSeccomp(*parsed);
    ASSERT_TRUE(compiled.ok()) << compiled.error().str();
    EXPECT_FALSE(compiled->program.empty());
  }
}

}  // namespace
}  // namespace berth::cri::testing
