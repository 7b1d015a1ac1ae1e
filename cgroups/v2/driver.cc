// The cgroup v2 driver: Create (mkdir, subtree_control from the berth root
// down), Apply (controller files, in runc's fs2 order), membership, freezer,
// kill, stats and removal of one unified-hierarchy directory.

#include "cgroups/v2/driver.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "cgroups/cgroupfs.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"

namespace berth::cgroups::v2 {

Status Target::Require(std::string_view field, std::string_view controller) const {
  if (Has(controller)) return Ok();
  std::string have;
  for (const std::string& c : controllers)
    have += (have.empty() ? "" : " ") + c;
  return Error(Errc::kFailedPrecondition,
               std::string(kField) + std::string(field) + ": the " + std::string(controller) +
                   " controller is not available in `" + dir + "` (cgroup.controllers: \"" + have +
                   "\"; enable it in the parent's cgroup.subtree_control)");
}

Result<Target> LoadTarget(const std::string& dir) {
  Target t;
  t.dir = dir;
  for (std::string& c : BERTH_TRY(ReadKnobWords(dir, "cgroup.controllers"))) {
    t.controllers.insert(std::move(c));
  }
  return t;
}

namespace {

// cgroup-v2.rst "no internal process constraint": a non-root cgroup can
// hand controllers to its children only while it has no processes itself.
Error NoInternalProcesses(const std::string& dir, const Error& cause) {
  Result<std::vector<pid_t>> procs = ReadProcs(dir);
  std::string who = procs.ok() && !procs->empty()
                        ? std::to_string(procs->size()) + " process(es), e.g. pid " +
                              std::to_string(procs->front())
                        : "processes";
  Error e(Errc::kFailedPrecondition,
          cause.str() + ": cgroup v2's no-internal-processes rule: `" + dir + "` holds " + who +
              " of its own, so it cannot enable controllers for its children; move them into "
              "a leaf cgroup (for example `" +
              PathJoin(dir, "berth") + "`) or choose an empty cgroup as the berth root");
  return e;
}

class Driver final : public cgroups::Driver {
 public:
  Driver(Placement placement, DeviceFilterInstallerPtr devices)
      : placement_(std::move(placement)),
        dir_(placement_.paths.at(kUnified)),
        root_(placement_.roots.at(kUnified)),
        devices_(std::move(devices)) {}

  Status Create() override;
  Status Apply(const Resources& r) override;
  Status AddProcess(pid_t pid) override;
  Result<SpawnJoin> OpenSpawnJoin() override;
  Status Freeze() override { return v2::Freeze(dir_); }
  Status Thaw() override { return v2::Thaw(dir_); }
  Result<FreezerState> GetFreezerState() override { return v2::GetFreezerState(dir_); }
  Result<std::vector<pid_t>> Pids() override { return ReadProcsRecursive(dir_); }
  Status Kill(int signal) override { return KillAll(dir_, signal); }
  Result<Stats> GetStats() override;
  Result<uint64_t> OomKillCount() override { return ReadOomKills(dir_); }
  Status Destroy() override { return RemoveCgroup(dir_); }
  const Placement& placement() const override { return placement_; }

 private:
  Status EnableControllers(const std::string& dir);
  Status CheckType();
  Status ApplyTyped(const Target& t, const Resources& r);

  Placement placement_;
  std::string dir_, root_;
  DeviceFilterInstallerPtr devices_;
};

Status Driver::EnableControllers(const std::string& dir) {
  std::vector<std::string> available = BERTH_TRY(ReadKnobWords(dir, "cgroup.controllers"));
  std::vector<std::string> enabled = BERTH_TRY(ReadKnobWords(dir, "cgroup.subtree_control"));
  std::vector<std::string> missing;
  for (const std::string& c : available) {
    if (std::find(enabled.begin(), enabled.end(), c) == enabled.end()) missing.push_back("+" + c);
  }
  if (missing.empty()) return Ok();
  std::string value = Join(missing, " ");
  Status all = WriteKnob(dir, "cgroup.subtree_control", value);
  if (all.ok()) return Ok();
  if (all.error().sys_errno() == EBUSY) return NoInternalProcesses(dir, all.error());
  // One by one: a controller the kernel refuses here (cpu with a real-time
  // task inside, say) must not keep the others off. Apply reports it by
  // field if a limit needs it.
  for (const std::string& c : missing) {
    Status one = WriteKnob(dir, "cgroup.subtree_control", c);
    if (!one.ok() && one.error().sys_errno() == EBUSY) {
      return NoInternalProcesses(dir, one.error());
    }
    if (!one.ok()) {
      BLOG(kWarn) << "cgroup v2: " << one.error().str();
    }
  }
  return Ok();
}

// A cgroup below a threaded one is "domain invalid": nothing can join it.
Status Driver::CheckType() {
  if (!KnobExists(dir_, "cgroup.type")) return Ok();
  std::string type(Trim(BERTH_TRY(ReadKnob(dir_, "cgroup.type"))));
  if (type != "domain invalid") return Ok();
  return Error(Errc::kFailedPrecondition,
               "create cgroup `" + dir_ +
                   "`: it is \"domain invalid\" (an ancestor inside the berth root is threaded), "
                   "so no process can join it");
}

Status Driver::Create() {
  std::vector<std::string> created = BERTH_TRY(MakeCgroupDirs(root_, dir_));
  std::vector<std::string> levels = DirsFromRoot(root_, dir_);
  Status s;
  for (size_t i = 0; s.ok() && i + 1 < levels.size(); ++i)
    s = EnableControllers(levels[i]);
  if (s.ok()) s = CheckType();
  if (!s.ok()) {
    RemoveCreated(created);
    return std::move(s).error().Wrap("create cgroup `" + dir_ + "`");
  }
  return Ok();
}

Status Driver::ApplyTyped(const Target& t, const Resources& r) {
  if (r.pids_limit) BERTH_TRY(ApplyPids(t, *r.pids_limit));
  if (r.memory) BERTH_TRY(ApplyMemory(t, *r.memory));
  if (r.block_io) BERTH_TRY(ApplyIo(t, *r.block_io));
  if (r.cpu) BERTH_TRY(ApplyCpu(t, *r.cpu));
  if (!r.devices.empty()) {
    if (!devices_) devices_ = NewBpfDeviceFilterInstaller();
    BERTH_TRY(ApplyDevices(t, r.devices, devices_.get()));
  }
  if (r.cpu) BERTH_TRY(ApplyCpuset(t, *r.cpu));
  BERTH_TRY(ApplyHugetlb(t, r.hugepage_limits));
  BERTH_TRY(ApplyRdma(t, r.rdma));
  if (r.network && (r.network->class_id || !r.network->priorities.empty())) {
    return Error(Errc::kInvalidArgument,
                 std::string(kField) + "network: cgroup v2 has no net_cls/net_prio controllers");
  }
  return Ok();
}

Status Driver::Apply(const Resources& r) {
  Target t = BERTH_TRY(LoadTarget(dir_));
  BERTH_TRY(ApplyTyped(t, r));
  return ApplyUnified(t, r.unified);
}

Status Driver::AddProcess(pid_t pid) {
  Status s = WriteProc(dir_, pid);
  if (s.ok() || s.error().sys_errno() != EBUSY) return s;
  return Error(Errc::kFailedPrecondition,
               s.error().str() + ": `" + dir_ +
                   "` has controllers enabled for child cgroups (cgroup.subtree_control), and "
                   "cgroup v2's no-internal-processes rule keeps processes out of such a cgroup");
}

Result<SpawnJoin> Driver::OpenSpawnJoin() {
  SpawnJoin join;
  join.clone_into = {BERTH_TRY(berth::Open(dir_, O_RDONLY | O_DIRECTORY | O_CLOEXEC)), dir_};
  return join;
}

Result<Stats> Driver::GetStats() {
  if (!PathExists(dir_)) return Error::Sys("stat", dir_, ENOENT);
  return ReadStats(dir_);
}

}  // namespace

Result<DriverPtr> NewDriver(const Placement& placement, DeviceFilterInstallerPtr devices) {
  if (placement.paths.count(kUnified) == 0 || placement.roots.count(kUnified) == 0) {
    return Error(Errc::kInvalidArgument, "open cgroup: a v2 placement needs a \"unified\" path");
  }
  BERTH_TRY(CheckConfined(kUnified, placement.paths.at(kUnified), placement.roots.at(kUnified)));
  return DriverPtr(std::make_unique<Driver>(placement, std::move(devices)));
}

}  // namespace berth::cgroups::v2
