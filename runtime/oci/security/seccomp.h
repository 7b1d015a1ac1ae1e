#pragma once
// Seccomp from the OCI spec (config-linux.md "Seccomp"), compiled with
// libseccomp in the runtime process before the container is cloned, and
// loaded in the container init with seccomp(2). Compiling early means an
// invalid profile fails `create` before anything exists, and the child needs
// no allocation to install it.
//
// Lifecycle:
//   parent:  ParseSeccomp(config["linux"]["seccomp"]) -> SeccompProfile
//            CompileSeccomp(profile)                   -> CompiledSeccomp
//   child:   LoadSeccomp(compiled)  (no allocation; returns the listener fd
//            when the profile uses SCMP_ACT_NOTIFY)
//
// A profile with neither defaultAction nor syscalls means "no seccomp" (as in
// runc): enabled() is false, CompileSeccomp returns an empty program and
// LoadSeccomp does nothing, so callers need no special case.

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace berth::runtime::security {

struct SeccompArg {
  uint32_t index = 0;      // 0..5
  uint64_t value = 0;      // the mask for SCMP_CMP_MASKED_EQ
  uint64_t value_two = 0;  // the datum for SCMP_CMP_MASKED_EQ
  std::string op;          // SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT, _MASKED_EQ
};

struct SeccompRule {
  std::vector<std::string> names;
  std::string action;                 // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;  // only with SCMP_ACT_ERRNO / SCMP_ACT_TRACE
  std::vector<SeccompArg> args;
};

struct SeccompProfile {
  std::string default_action;  // empty: seccomp disabled
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SeccompRule> syscalls;

  bool enabled() const { return !default_action.empty(); }
  // True when any rule uses SCMP_ACT_NOTIFY (the runtime then needs
  // listener_path and must forward the fd LoadSeccomp returns).
  bool UsesNotify() const;
};

// Parses linux.seccomp (absent -> disabled profile). Every name, number and
// combination is validated here, and errors name the field
// ("linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"").
// Unknown syscall *names* are not errors (see CompileSeccomp).
Result<SeccompProfile> ParseSeccomp(const json::Field& field);

// A compiled BPF program plus the seccomp(2) flags to load it with.
struct CompiledSeccomp {
  std::vector<sock_filter> program;  // empty: nothing to load
  unsigned int flags = 0;            // SECCOMP_FILTER_FLAG_*, NEW_LISTENER included
  bool uses_notify = false;
  // Syscall names libseccomp does not know for the native architecture;
  // their rules were skipped (logged at debug level).
  std::vector<std::string> unknown_syscalls;
};

// Builds the filter with libseccomp, exports it as classic BPF and, like runc,
// prepends a stub that answers ENOSYS for syscall numbers above the highest
// one the profile names (per listed architecture), so that libc falls back
// from syscalls newer than the profile instead of seeing EPERM. Rules whose
// action equals the default action are skipped (libseccomp rejects them);
// unknown syscall names are skipped with a debug log, as runc does. Requested
// flags the running kernel lacks are errors.
Result<CompiledSeccomp> CompileSeccomp(const SeccompProfile& profile);

// CompileSeccomp with a cache of compiled programs in `cache_dir` (created
// 0700; it must be a directory only root writes, such as the runtime's
// state root; "" = no cache). libseccomp takes 20-30 ms for a default
// profile of ~400 syscalls, and every sandbox of a node carries the same
// one. An entry holds its whole key — the profile (all but the listener
// path and metadata), the native architecture, libseccomp's version and
// API level, the kernel release and the runtime binary (device, inode,
// size, mtime) — and is used only when that key matches exactly; so an
// identical profile on the same system gives the identical program. The
// kernel flags are checked at every call. A cache that cannot be read or
// written is passed by (logged at debug level).
Result<CompiledSeccomp> CompileSeccompCached(const SeccompProfile& profile,
                                             const std::string& cache_dir);

// Installs the filter in the calling thread with seccomp(2). Requires
// no_new_privs or CAP_SYS_ADMIN. Allocation-free, for a freshly forked child.
// Returns:
//   -errno on failure;
//   the listener fd (>= 0, close-on-exec) when compiled.uses_notify;
//   0 otherwise (also when the program is empty: nothing is loaded).
int LoadSeccomp(const CompiledSeccomp& compiled);

// For `features` (runtime-spec features.md, linux.seccomp).
std::vector<std::string> SupportedSeccompActions();
std::vector<std::string> SupportedSeccompOperators();
std::vector<std::string> SupportedSeccompArchitectures();
// knownFlags: every flag berth understands.
std::vector<std::string> KnownSeccompFlags();
// supportedFlags: the known flags the running kernel accepts.
std::vector<std::string> SupportedSeccompFlags();

}  // namespace berth::runtime::security
