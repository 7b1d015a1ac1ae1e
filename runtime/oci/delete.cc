// `delete`: tears a container down. A created container is killed (it never
// ran); a running or paused one only with --force; then every process left
// in the cgroup is killed, the cgroup and state removed, and poststop hooks
// run.

#include <signal.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "runtime/oci/container.h"
#include "runtime/oci/hooks.h"

namespace berth::runtime::oci {
namespace {

constexpr int kExitWaitMs = 10'000;

Status KillEverything(const ContainerState& state, cgroups::Driver* driver) {
  if (driver != nullptr) {
    (void)driver->Kill(SIGKILL);
    // Frozen processes take SIGKILL only once thawed.
    (void)driver->Thaw();
  }
  if (ProcessAlive(state.pid, state.pid_start_time)) ::kill(state.pid, SIGKILL);
  if (!WaitForExit(state.pid, state.pid_start_time, kExitWaitMs)) {
    return Error(Errc::kDeadlineExceeded,
                 "container init " + std::to_string(state.pid) + " did not exit after SIGKILL");
  }
  return Ok();
}

// Processes outside the container's pid namespace (or in a shared one)
// survive the init; sweep the cgroup until it is empty.
Status EmptyCgroup(cgroups::Driver* driver) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    Result<std::vector<pid_t>> pids = driver->Pids();
    if (!pids.ok() || pids->empty()) return Ok();
    (void)driver->Kill(SIGKILL);
    ::usleep(10'000);
  }
  return Error(Errc::kDeadlineExceeded, "processes remain in the container's cgroup after SIGKILL");
}

Status Destroy(const StateDir& dir, const ContainerState& state) {
  cgroups::DriverPtr driver;
  if (state.has_cgroup) driver = BERTH_TRY(cgroups::Open(state.cgroup));
  BERTH_TRY(KillEverything(state, driver.get()));
  if (driver) {
    BERTH_TRY(EmptyCgroup(driver.get()));
    BERTH_TRY_CTX(driver->Destroy(), "remove cgroup");
  }
  Result<Spec> spec = dir.LoadSpec();
  BERTH_TRY(dir.Remove());
  if (spec.ok()) {
    RunHooksWarnOnly(spec->hooks.poststop, "poststop",
                     OciStateJson(state, ContainerStatus::kStopped));
  }
  return Ok();
}

}  // namespace

Status DeleteContainer(const RuntimeOptions& rt, const std::string& id, bool force) {
  Result<StateDir> dir = StateDir::Open(rt.root, id);
  if (!dir.ok()) {
    if (dir.error().code() != Errc::kNotFound) return std::move(dir).error();
    // A create that died before writing state.json can leave the directory.
    if (ValidateId(id).ok()) (void)RemoveAll(PathJoin(rt.root, id));
    if (force) return Ok();
    return std::move(dir).error();
  }
  ContainerState state = BERTH_TRY(dir->Load());
  ContainerStatus status = ComputeStatus(state, *dir);
  if ((status == ContainerStatus::kRunning || status == ContainerStatus::kPaused) && !force) {
    return Error(Errc::kFailedPrecondition,
                 "cannot delete container " + id + " that is not stopped: " + StatusName(status));
  }
  return Destroy(*dir, state);
}

}  // namespace berth::runtime::oci
