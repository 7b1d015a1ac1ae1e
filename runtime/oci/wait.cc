#include <poll.h>

#include "common/fd.h"
#include "namespaces/syscalls.h"
#include "runtime/oci/container.h"

namespace berth::runtime::oci {

bool WaitForExit(pid_t pid, uint64_t start_time, int timeout_ms) {
  UniqueFd pidfd(sys::PidfdOpen(pid));
  if (!pidfd || !ProcessAlive(pid, start_time)) return true;
  pollfd p{pidfd.get(), POLLIN, 0};
  while (true) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return !ProcessAlive(pid, start_time);
  }
}

}  // namespace berth::runtime::oci
