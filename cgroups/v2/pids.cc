// pids on cgroup v2: limit -> pids.max ("max" for 0 and -1, as runc).

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"

namespace berth::cgroups::v2 {

Status ApplyPids(const Target& t, int64_t limit) {
  BERTH_TRY(t.Require("pids.limit", "pids"));
  std::string value = limit > 0 ? std::to_string(limit) : "max";
  BERTH_TRY_CTX(WriteKnob(t.dir, "pids.max", value), std::string(kField) + "pids.limit");
  return Ok();
}

}  // namespace berth::cgroups::v2
