// `pause` / `resume`: the freezer.

#include "runtime/oci/container.h"

namespace berth::runtime::oci {
namespace {

Result<cgroups::DriverPtr> DriverFor(const ContainerState& state) {
  if (!state.has_cgroup) return Error(Errc::kFailedPrecondition, "container has no cgroup");
  return cgroups::Open(state.cgroup);
}

}  // namespace

Status PauseContainer(const RuntimeOptions& rt, const std::string& id) {
  StateDir dir = BERTH_TRY(StateDir::Open(rt.root, id));
  ContainerState state = BERTH_TRY(dir.Load());
  // As runc: a created container (its init blocked before the user
  // process) can be frozen too.
  ContainerStatus status = ComputeStatus(state, dir);
  if (status != ContainerStatus::kRunning && status != ContainerStatus::kCreated) {
    return Error(Errc::kFailedPrecondition, "container not running");
  }
  cgroups::DriverPtr driver = BERTH_TRY(DriverFor(state));
  return driver->Freeze();
}

Status ResumeContainer(const RuntimeOptions& rt, const std::string& id) {
  StateDir dir = BERTH_TRY(StateDir::Open(rt.root, id));
  ContainerState state = BERTH_TRY(dir.Load());
  if (ComputeStatus(state, dir) != ContainerStatus::kPaused) {
    return Error(Errc::kFailedPrecondition, "container not paused");
  }
  cgroups::DriverPtr driver = BERTH_TRY(DriverFor(state));
  return driver->Thaw();
}

}  // namespace berth::runtime::oci
