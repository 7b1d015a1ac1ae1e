// Open: the driver for a resolved placement, by mode. Both drivers check
// the placement first (every path clean and strictly below its berth root),
// so a damaged or hand-edited state file cannot point them elsewhere.

#include "cgroups/v1/driver.h"

#include "cgroups/cgroups.h"
#include "cgroups/v2/driver.h"

namespace berth::cgroups {

const char* FreezerStateName(FreezerState state) {
  switch (state) {
    case FreezerState::kThawed:
      return "thawed";
    case FreezerState::kFreezing:
      return "freezing";
    case FreezerState::kFrozen:
      return "frozen";
  }
  return "unknown";
}

Result<DriverPtr> Open(const Placement& placement) {
  if (placement.mode == Mode::kV2) return v2::NewDriver(placement);
  return v1::NewDriver(placement);
}

}  // namespace berth::cgroups
