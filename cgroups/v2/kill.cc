// Killing every process of a cgroup v2 subtree. SIGKILL goes through
// cgroup.kill (Linux 5.14+), which the kernel applies atomically to the whole
// subtree, forks included. Other signals (or older kernels): freeze, signal
// every pid, thaw, so no task forks past the signal (runc's kill --all).

#include <signal.h>

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"
#include "common/log.h"

namespace berth::cgroups::v2 {

Status KillAll(const std::string& dir, int signal) {
  if (signal == SIGKILL && KnobExists(dir, "cgroup.kill")) {
    return WriteKnob(dir, "cgroup.kill", "1");
  }
  bool can_freeze = KnobExists(dir, "cgroup.freeze");
  FreezerState before = can_freeze ? BERTH_TRY(GetFreezerState(dir)) : FreezerState::kThawed;
  bool froze = false;
  if (can_freeze && before != FreezerState::kFrozen) {
    Status s = Freeze(dir);
    if (!s.ok()) {
      BLOG(kWarn) << "signalling unfrozen: " << s.error().str();
    }
    froze = s.ok();
  }
  Status signalled = SignalPids(BERTH_TRY(ReadProcsRecursive(dir)), signal);
  // A paused container stays paused for a catchable signal; SIGKILL must
  // take effect, so it is thawed.
  if (froze || (before == FreezerState::kFrozen && signal == SIGKILL)) BERTH_TRY(Thaw(dir));
  return signalled;
}

}  // namespace berth::cgroups::v2
