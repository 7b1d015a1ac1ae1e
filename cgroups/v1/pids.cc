// pids on cgroup v1: limit -> pids.max ("max" for 0 and -1, as runc).

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"

namespace berth::cgroups::v1 {

Status ApplyPids(const std::string& dir, int64_t limit) {
  std::string value = limit > 0 ? std::to_string(limit) : "max";
  BERTH_TRY_CTX(WriteKnob(dir, "pids.max", value), std::string(kField) + "pids.limit");
  return Ok();
}

Status ReadPidsStats(const std::string& dir, Stats* s) {
  s->pids.current = BERTH_TRY(ReadKnobUint(dir, "pids.current"));
  uint64_t max = BERTH_TRY(ReadKnobUint(dir, "pids.max"));
  s->pids.limit = max == kMax ? 0 : max;
  return Ok();
}

}  // namespace berth::cgroups::v1
