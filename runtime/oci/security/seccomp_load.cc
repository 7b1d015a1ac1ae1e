// The seccomp(2) side: loading a compiled program in the container init,
// and probing which filter flags the kernel accepts.

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/seccomp_kernel.h"

namespace berth::runtime::security {

bool KernelAcceptsSeccompFlags(unsigned int flags) {
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr);
  return rc < 0 && errno == EFAULT;
}

// Runs in the forked container init: no allocation, no logging.
int LoadSeccomp(const CompiledSeccomp& compiled) {
  if (compiled.program.empty()) return 0;
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(compiled.program.size());
  prog.filter = const_cast<sock_filter*>(compiled.program.data());
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, compiled.flags, &prog);
  if (rc < 0) return -errno;
  if (compiled.uses_notify) return static_cast<int>(rc);
  // With TSYNC alone, a positive value is the thread that could not be
  // synchronised, and nothing was installed.
  return rc == 0 ? 0 : -ESRCH;
}

}  // namespace berth::runtime::security
