#pragma once
// Seccomp from the OCI spec (config-linux.md "Seccomp"), compiled with
// libseccomp in the runtime process before the container is cloned, and
// loaded in the container init with seccomp(2). Compiling early means an
// invalid profile fails `create` before anything exists, and the child needs
// no allocation to install it.

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace berth::runtime::security {

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT, _MASKED_EQ
};

struct SeccompRule {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct SeccompProfile {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SeccompRule> syscalls;
};

// Parses linux.seccomp; errors name the field ("linux.seccomp.syscalls[2].action:
// unknown action \"SCMP_ACT_FOO\"").
Result<SeccompProfile> ParseSeccomp(const json::Field& field);

// A compiled BPF program plus the seccomp(2) flags to load it with.
struct CompiledSeccomp {
  std::vector<sock_filter> program;
  unsigned int flags = 0;  // SECCOMP_FILTER_FLAG_*
  bool uses_notify = false;
};

// Unknown syscall names are skipped with a debug log (as runc does: a name
// the kernel/arch does not know cannot be called anyway).
Result<CompiledSeccomp> CompileSeccomp(const SeccompProfile& profile);

// Installs the filter in the calling process. Requires no_new_privs or
// CAP_SYS_ADMIN. Async-signal-safe enough for a freshly forked child: no
// allocation. Returns -errno on failure (0 on success).
int LoadSeccomp(const CompiledSeccomp& compiled);

// The actions, operators, architectures and flags supported, for `features`.
std::vector<std::string> SupportedSeccompActions();
std::vector<std::string> SupportedSeccompOperators();
std::vector<std::string> SupportedSeccompArchitectures();
std::vector<std::string> SupportedSeccompFlags();

}  // namespace berth::runtime::security
