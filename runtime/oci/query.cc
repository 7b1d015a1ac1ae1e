// Read-only views of containers: state, list, ps, stats.

#include "runtime/oci/container.h"

namespace berth::runtime::oci {

Result<ContainerInfo> GetContainer(const RuntimeOptions& rt, const std::string& id) {
  StateDir dir = BERTH_TRY(StateDir::Open(rt.root, id));
  ContainerInfo info;
  info.state = BERTH_TRY(dir.Load());
  info.status = ComputeStatus(info.state, dir);
  return info;
}

Result<std::vector<ContainerInfo>> ListContainers(const RuntimeOptions& rt) {
  std::vector<ContainerInfo> out;
  for (const std::string& id : BERTH_TRY(ListContainerIds(rt.root))) {
    Result<ContainerInfo> info = GetContainer(rt, id);
    if (info.ok()) out.push_back(std::move(info).value());  // a concurrent delete
  }
  return out;
}

Result<std::vector<pid_t>> ContainerPids(const RuntimeOptions& rt, const std::string& id) {
  ContainerInfo info = BERTH_TRY(GetContainer(rt, id));
  if (!info.state.has_cgroup) return std::vector<pid_t>{};
  cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(info.state.cgroup));
  return driver->Pids();
}

Result<cgroups::Stats> ContainerStats(const RuntimeOptions& rt, const std::string& id) {
  ContainerInfo info = BERTH_TRY(GetContainer(rt, id));
  if (info.status == ContainerStatus::kStopped)
    return Error(Errc::kNotFound, "container not running");
  if (!info.state.has_cgroup) return Error(Errc::kFailedPrecondition, "container has no cgroup");
  cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(info.state.cgroup));
  return driver->GetStats();
}

Result<uint64_t> ContainerOomKills(const RuntimeOptions& rt, const std::string& id) {
  ContainerInfo info = BERTH_TRY(GetContainer(rt, id));
  if (!info.state.has_cgroup) return Error(Errc::kFailedPrecondition, "container has no cgroup");
  cgroups::DriverPtr driver = BERTH_TRY(cgroups::Open(info.state.cgroup));
  return driver->OomKillCount();
}

}  // namespace berth::runtime::oci
