// The v1-only network controllers and rdma:
//   network.classID      -> net_cls.classid
//   network.priorities[] -> net_prio.ifpriomap "<ifname> <priority>", one write each
//   rdma.<device>        -> rdma.max "<device> hca_handle=N hca_object=M"

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"

namespace berth::cgroups::v1 {

Status ApplyNetCls(const std::string& dir, uint32_t class_id) {
  BERTH_TRY_CTX(WriteKnob(dir, "net_cls.classid", std::to_string(class_id)),
                std::string(kField) + "network.classID");
  return Ok();
}

Status ApplyNetPrio(const std::string& dir,
                    const std::vector<std::pair<std::string, uint32_t>>& priorities) {
  for (size_t i = 0; i < priorities.size(); ++i) {
    const auto& [name, priority] = priorities[i];
    BERTH_TRY_CTX(WriteKnob(dir, "net_prio.ifpriomap", name + " " + std::to_string(priority)),
                  std::string(kField) + "network.priorities[" + std::to_string(i) + "]");
  }
  return Ok();
}

Status ApplyRdma(const std::string& dir,
                 const std::map<std::string, std::map<std::string, uint32_t>>& rdma) {
  for (const auto& [device, limits] : rdma) {
    std::string line = RdmaLimitLine(device, limits);
    if (line.empty()) continue;
    BERTH_TRY_CTX(WriteKnob(dir, "rdma.max", line), std::string(kField) + "rdma." + device);
  }
  return Ok();
}

}  // namespace berth::cgroups::v1
