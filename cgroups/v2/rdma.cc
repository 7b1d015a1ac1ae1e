// rdma on cgroup v2: one rdma.max line per device,
// "<device> hca_handle=<n> hca_object=<m>" (only the limits given).

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"

namespace berth::cgroups::v2 {

Status ApplyRdma(const Target& t,
                 const std::map<std::string, std::map<std::string, uint32_t>>& rdma) {
  if (rdma.empty()) return Ok();
  BERTH_TRY(t.Require("rdma", "rdma"));
  for (const auto& [device, limits] : rdma) {
    std::string line = RdmaLimitLine(device, limits);
    if (line.empty()) continue;
    BERTH_TRY_CTX(WriteKnob(t.dir, "rdma.max", line), std::string(kField) + "rdma." + device);
  }
  return Ok();
}

}  // namespace berth::cgroups::v2
