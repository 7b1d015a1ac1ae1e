// `update`: new cgroup limits for a live container. Only the fields the
// resources document sets are written.

#include "runtime/oci/container.h"

namespace berth::runtime::oci {

Status UpdateContainer(const RuntimeOptions& rt, const std::string& id,
                       const cgroups::Resources& resources) {
  StateDir dir = BERTH_TRY(StateDir::Open(rt.root, id));
  ContainerState state = BERTH_TRY(dir.Load());
  if (ComputeStatus(state, dir) == ContainerStatus::kStopped) {
    return Error(Errc::kFailedPrecondition, "container not running");
  }
  if (!state.has_cgroup) return Error(Errc::kFailedPrecondition, "container has no cgroup");
  cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(state.cgroup));
  return driver->Apply(resources);
}

}  // namespace berth::runtime::oci
