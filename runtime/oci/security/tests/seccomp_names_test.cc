// The seccomp name tables and the `features` lists.

#include "runtime/oci/security/seccomp_names.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cerrno>

#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/seccomp_kernel.h"

namespace berth::runtime::security {
namespace {

using Names = std::vector<std::string>;

bool Contains(const Names& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(SeccompNamesTest, Actions) {
  EXPECT_EQ(SupportedSeccompActions(),
            (Names{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                   "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
                   "SCMP_ACT_TRAP"}));
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_KILL", std::nullopt), SCMP_ACT_KILL_THREAD);
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_KILL_PROCESS", std::nullopt), SCMP_ACT_KILL_PROCESS);
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_TRAP", std::nullopt), SCMP_ACT_TRAP);
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_ERRNO", std::nullopt), SCMP_ACT_ERRNO(EPERM));
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_ERRNO", 38), SCMP_ACT_ERRNO(38));
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_TRACE", std::nullopt), SCMP_ACT_TRACE(EPERM));
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_TRACE", 7), SCMP_ACT_TRACE(7));
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_ALLOW", std::nullopt), SCMP_ACT_ALLOW);
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_LOG", std::nullopt), SCMP_ACT_LOG);
  EXPECT_EQ(SeccompActionValue("SCMP_ACT_NOTIFY", std::nullopt), SCMP_ACT_NOTIFY);
  EXPECT_FALSE(SeccompActionValue("SCMP_ACT_NOPE", std::nullopt).has_value());
  EXPECT_TRUE(SeccompActionTakesErrno("SCMP_ACT_ERRNO"));
  EXPECT_TRUE(SeccompActionTakesErrno("SCMP_ACT_TRACE"));
  EXPECT_FALSE(SeccompActionTakesErrno("SCMP_ACT_ALLOW"));
  EXPECT_TRUE(IsPermissiveSeccompAction("SCMP_ACT_TRACE"));
  EXPECT_FALSE(IsPermissiveSeccompAction("SCMP_ACT_ERRNO"));
}

TEST(SeccompNamesTest, Operators) {
  EXPECT_EQ(SupportedSeccompOperators(),
            (Names{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                   "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}));
  EXPECT_EQ(SeccompOperatorValue("SCMP_CMP_MASKED_EQ"), SCMP_CMP_MASKED_EQ);
  EXPECT_EQ(SeccompOperatorValue("SCMP_CMP_NE"), SCMP_CMP_NE);
  EXPECT_FALSE(SeccompOperatorValue("SCMP_CMP_XX").has_value());
}

TEST(SeccompNamesTest, Architectures) {
  Names arches = SupportedSeccompArchitectures();
  EXPECT_EQ(arches.size(), 19u);  // the spec's list
  for (const char* a : {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                        "SCMP_ARCH_RISCV64", "SCMP_ARCH_PARISC64", "SCMP_ARCH_S390X"}) {
    EXPECT_TRUE(Contains(arches, a)) << a;
  }
  EXPECT_EQ(SeccompArchToken("SCMP_ARCH_X86_64"), SCMP_ARCH_X86_64);
  EXPECT_EQ(SeccompAuditArch(SCMP_ARCH_X86_64), AUDIT_ARCH_X86_64);
  EXPECT_EQ(SeccompAuditArch(SCMP_ARCH_X32), AUDIT_ARCH_X86_64);
  EXPECT_EQ(SeccompAuditArch(SCMP_ARCH_X86), AUDIT_ARCH_I386);
  EXPECT_EQ(SeccompAuditArch(SCMP_ARCH_AARCH64), AUDIT_ARCH_AARCH64);
  EXPECT_FALSE(SeccompAuditArch(12345).has_value());
  // Every name resolves in libseccomp to the token we use.
  for (const std::string& name : arches) {
    std::string lower = name.substr(strlen("SCMP_ARCH_"));
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    EXPECT_EQ(seccomp_arch_resolve_name(lower.c_str()), SeccompArchToken(name)) << name;
  }
}

TEST(SeccompNamesTest, Flags) {
  EXPECT_EQ(KnownSeccompFlags(),
            (Names{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                   "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}));
  EXPECT_EQ(SeccompFlagValue("SECCOMP_FILTER_FLAG_TSYNC"), SECCOMP_FILTER_FLAG_TSYNC);
  EXPECT_EQ(SeccompFlagValue("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
            SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  // Supported flags are known flags; on any kernel berth targets (>= 5.x)
  // TSYNC, LOG and SPEC_ALLOW are there.
  Names supported = SupportedSeccompFlags();
  for (const std::string& f : supported)
    EXPECT_TRUE(Contains(KnownSeccompFlags(), f)) << f;
  EXPECT_TRUE(Contains(supported, "SECCOMP_FILTER_FLAG_TSYNC"));
  EXPECT_TRUE(Contains(supported, "SECCOMP_FILTER_FLAG_LOG"));
  EXPECT_TRUE(Contains(supported, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
  EXPECT_FALSE(KernelAcceptsSeccompFlags(1u << 30));
}

}  // namespace
}  // namespace berth::runtime::security
