#pragma once
// What the running kernel's seccomp(2) accepts.

#include <linux/seccomp.h>

#include "common/error.h"
#include "runtime/oci/security/seccomp.h"

// Linux 5.19; Debian 12's headers have it, older ones may not.
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace berth::runtime::security {

// True when seccomp(SECCOMP_SET_MODE_FILTER, flags, ...) would accept
// `flags`: probed with a NULL program, which a kernel that knows every bit
// answers with EFAULT (libseccomp probes the same way). Installs nothing.
bool KernelAcceptsSeccompFlags(unsigned int flags);

// The seccomp(2) flags for `profile` (NEW_LISTENER when `uses_notify`),
// each checked against the running kernel; errors name the flag's field.
Result<unsigned int> SeccompKernelFlags(const SeccompProfile& profile, bool uses_notify);

}  // namespace berth::runtime::security
