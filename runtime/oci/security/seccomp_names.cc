#include "runtime/oci/security/seccomp_names.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

#include "runtime/oci/security/seccomp_kernel.h"

namespace berth::runtime::security {
namespace {

enum class ErrnoUse { kNone, kData };

struct ActionEntry {
  std::string_view name;
  uint32_t value;  // with SECCOMP_RET_DATA zero
  ErrnoUse errno_use;
  bool permissive;
};

// SCMP_ACT_KILL is the historical name of SCMP_ACT_KILL_THREAD.
constexpr ActionEntry kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, ErrnoUse::kNone, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, ErrnoUse::kNone, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, ErrnoUse::kNone, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, ErrnoUse::kNone, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), ErrnoUse::kData, false},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), ErrnoUse::kData, true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, ErrnoUse::kNone, true},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, ErrnoUse::kNone, true},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, ErrnoUse::kNone, false},
};

struct OperatorEntry {
  std::string_view name;
  int value;
};

constexpr OperatorEntry kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

struct ArchEntry {
  std::string_view name;
  uint32_t token;
};

// Every architecture libseccomp 2.5 knows (the spec's list).
constexpr ArchEntry kArches[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

struct FlagEntry {
  std::string_view name;
  unsigned int value;
};

constexpr FlagEntry kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

template <class Table>
auto Find(const Table& table, std::string_view name) -> decltype(std::begin(table)) {
  return std::find_if(std::begin(table), std::end(table),
                      [&](const auto& entry) { return entry.name == name; });
}

template <class Table>
std::vector<std::string> SortedNames(const Table& table) {
  std::vector<std::string> names;
  for (const auto& entry : table)
    names.emplace_back(entry.name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

bool IsSeccompAction(std::string_view name) {
  return Find(kActions, name) != std::end(kActions);
}

bool SeccompActionTakesErrno(std::string_view name) {
  auto it = Find(kActions, name);
  return it != std::end(kActions) && it->errno_use == ErrnoUse::kData;
}

std::optional<uint32_t> SeccompActionValue(std::string_view name,
                                           std::optional<uint32_t> errno_ret) {
  auto it = Find(kActions, name);
  if (it == std::end(kActions)) return std::nullopt;
  if (it->errno_use == ErrnoUse::kNone) return it->value;
  return it->value | (errno_ret.value_or(EPERM) & SECCOMP_RET_DATA);
}

bool IsPermissiveSeccompAction(std::string_view name) {
  auto it = Find(kActions, name);
  return it != std::end(kActions) && it->permissive;
}

std::optional<int> SeccompOperatorValue(std::string_view name) {
  auto it = Find(kOperators, name);
  if (it == std::end(kOperators)) return std::nullopt;
  return it->value;
}

std::optional<uint32_t> SeccompArchToken(std::string_view name) {
  auto it = Find(kArches, name);
  if (it == std::end(kArches)) return std::nullopt;
  return it->token;
}

std::optional<uint32_t> SeccompAuditArch(uint32_t arch_token) {
  // libseccomp's tokens are the AUDIT_ARCH_* values, except x32, whose
  // syscalls arrive as x86_64 ones with __X32_SYSCALL_BIT set.
  if (arch_token == SCMP_ARCH_X32) return AUDIT_ARCH_X86_64;
  for (const ArchEntry& entry : kArches) {
    if (entry.token == arch_token) return arch_token;
  }
  return std::nullopt;
}

std::optional<unsigned int> SeccompFlagValue(std::string_view name) {
  auto it = Find(kFlags, name);
  if (it == std::end(kFlags)) return std::nullopt;
  return it->value;
}

std::vector<std::string> SeccompActionNames() {
  return SortedNames(kActions);
}
std::vector<std::string> SeccompOperatorNames() {
  return SortedNames(kOperators);
}
std::vector<std::string> SeccompArchNames() {
  return SortedNames(kArches);
}
std::vector<std::string> SeccompFlagNames() {
  return SortedNames(kFlags);
}

}  // namespace berth::runtime::security
