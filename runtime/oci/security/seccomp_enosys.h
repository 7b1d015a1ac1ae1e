#pragma once
// The -ENOSYS stub runc prepends to libseccomp's filter.
//
// A profile with a restrictive default action (ERRNO, KILL, TRAP...) written
// before a syscall existed would answer that syscall with EPERM, and libc
// only falls back (clone3 -> clone, faccessat2 -> faccessat, ...) on ENOSYS.
// So, for each architecture the profile lists, syscall numbers above the
// highest one the profile names return ENOSYS before the real filter runs.
// As in runc, nothing is added when the profile lists no architectures, when
// the default action is permissive (ALLOW, LOG, TRACE), or when the default
// already is ERRNO(ENOSYS).

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "common/error.h"
#include "runtime/oci/security/seccomp.h"

namespace berth::runtime::security {

struct ArchSyscallMax {
  uint32_t audit_arch = 0;  // seccomp_data.arch (AUDIT_ARCH_*)
  uint32_t arch_token = 0;  // SCMP_ARCH_* (x32 and x86_64 share an audit arch)
  uint32_t max_nr = 0;      // highest syscall number named in the profile
};

// The per-architecture maxima (architectures where the profile names no
// known syscall are left out).
std::vector<ArchSyscallMax> HighestProfileSyscalls(const SeccompProfile& profile);

// The stub to prepend, empty when none is needed; it ends by falling through
// into the instruction that follows it.
Result<std::vector<sock_filter>> BuildEnosysStub(const SeccompProfile& profile);

}  // namespace berth::runtime::security
