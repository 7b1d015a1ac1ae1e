// The cgroup v1 / hybrid driver: one directory per hierarchy (comounted
// controllers share one), limits in runc's fs subsystem order, the v1
// freezer (or, on a hybrid host without it, the unified cgroup.freeze).

#include "cgroups/v1/driver.h"

#include <fcntl.h>
#include <signal.h>

#include <algorithm>

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"
#include "cgroups/v2/controllers.h"
#include "common/file.h"
#include "common/log.h"

namespace berth::cgroups::v1 {

namespace {

// One mounted hierarchy: its directory and the keys (controllers) in it.
struct Hierarchy {
  std::string dir, root;
  std::vector<std::string> keys;
};

std::vector<Hierarchy> GroupByDir(const Placement& p) {
  std::vector<Hierarchy> out;
  for (const auto& entry : p.paths) {
    const std::string& dir = entry.second;
    auto same =
        std::find_if(out.begin(), out.end(), [&](const Hierarchy& h) { return h.dir == dir; });
    if (same != out.end()) {
      same->keys.push_back(entry.first);
    } else {
      out.push_back({dir, p.roots.at(entry.first), {entry.first}});
    }
  }
  return out;
}

bool BlockIoSet(const std::optional<BlockIo>& io) {
  return io && (io->weight.value_or(0) != 0 || io->leaf_weight.value_or(0) != 0 ||
                !io->weight_device.empty() || !io->throttle_read_bps.empty() ||
                !io->throttle_write_bps.empty() || !io->throttle_read_iops.empty() ||
                !io->throttle_write_iops.empty());
}

class Driver final : public cgroups::Driver {
 public:
  explicit Driver(Placement placement)
      : placement_(std::move(placement)), hierarchies_(GroupByDir(placement_)) {}

  Status Create() override;
  Status Apply(const Resources& r) override;
  Status AddProcess(pid_t pid) override;
  Result<SpawnJoin> OpenSpawnJoin() override;
  Status Freeze() override;
  Status Thaw() override;
  Result<FreezerState> GetFreezerState() override;
  Result<std::vector<pid_t>> Pids() override { return ReadProcsRecursive(PidsDir()); }
  Status Kill(int signal) override;
  Result<Stats> GetStats() override;
  Result<uint64_t> OomKillCount() override;
  Status Destroy() override;
  const Placement& placement() const override { return placement_; }

 private:
  bool Has(const std::string& key) const { return placement_.paths.count(key) != 0; }
  const std::string& Dir(const std::string& key) const { return placement_.paths.at(key); }
  const std::string& PidsDir() const;
  Status CheckMounted(const Resources& r) const;
  Status ApplyLimits(const Resources& r);
  // The freezer in use: v1 "freezer", else the unified hierarchy's.
  bool V1Freezer() const { return Has("freezer"); }
  bool CanFreeze() const;

  Placement placement_;
  std::vector<Hierarchy> hierarchies_;
};

Status Driver::Create() {
  std::vector<std::string> created;
  Status s;
  for (const Hierarchy& h : hierarchies_) {
    Result<std::vector<std::string>> made = MakeCgroupDirs(h.root, h.dir);
    if (!made.ok()) {
      s = std::move(made).error();
      break;
    }
    created.insert(created.end(), made->begin(), made->end());
  }
  if (s.ok() && Has("cpuset")) s = InheritCpuset(placement_.roots.at("cpuset"), Dir("cpuset"));
  if (!s.ok()) {
    RemoveCreated(created);
    return std::move(s).error().Wrap("create cgroup `" + hierarchies_.front().dir + "`");
  }
  return Ok();
}

Status Driver::CheckMounted(const Resources& r) const {
  struct Need {
    bool wanted;
    const char* field;
    const char* controller;
  };
  const MemoryLimits m = r.memory.value_or(MemoryLimits{});
  const CpuLimits c = r.cpu.value_or(CpuLimits{});
  const NetworkLimits n = r.network.value_or(NetworkLimits{});
  bool memory = m.limit.value_or(0) != 0 || m.swap.value_or(0) != 0 ||
                m.reservation.value_or(0) != 0 || m.swappiness || m.disable_oom_killer;
  bool cpu = c.shares.value_or(0) != 0 || c.quota.value_or(0) != 0 || c.period.value_or(0) != 0 ||
             c.burst || c.realtime_runtime.value_or(0) != 0 || c.realtime_period.value_or(0) != 0 ||
             c.idle;
  for (const Need& need : {
           Need{!r.devices.empty(), "devices", "devices"},
           Need{memory, "memory", "memory"},
           Need{cpu, "cpu", "cpu"},
           Need{!c.cpus.empty() || !c.mems.empty(), "cpu.cpus/mems", "cpuset"},
           Need{r.pids_limit.value_or(0) > 0, "pids.limit", "pids"},
           Need{BlockIoSet(r.block_io), "blockIO", "blkio"},
           Need{!r.hugepage_limits.empty(), "hugepageLimits", "hugetlb"},
           Need{n.class_id.has_value(), "network.classID", "net_cls"},
           Need{!n.priorities.empty(), "network.priorities", "net_prio"},
           Need{!r.rdma.empty(), "rdma", "rdma"},
       }) {
    if (!need.wanted || Has(need.controller)) continue;
    return Error(Errc::kFailedPrecondition,
                 std::string(kField) + need.field + ": the " + need.controller +
                     " controller is not mounted (cgroup " + ModeName(placement_.mode) +
                     "); berth refuses a limit it cannot enforce");
  }
  if (!r.unified.empty()) {
    return Error(Errc::kFailedPrecondition,
                 std::string(kField) +
                     "unified: needs cgroup v2; this host's controllers are v1 (" +
                     ModeName(placement_.mode) + ")");
  }
  return Ok();
}

// runc's fs subsystem order: cpuset, devices, memory, cpu, pids, blkio,
// hugetlb, net_cls, net_prio, rdma.
Status Driver::ApplyLimits(const Resources& r) {
  if (r.cpu && Has("cpuset")) BERTH_TRY(ApplyCpuset(Dir("cpuset"), *r.cpu));
  if (!r.devices.empty()) BERTH_TRY(ApplyDevices(Dir("devices"), r.devices));
  if (r.memory && Has("memory")) BERTH_TRY(ApplyMemory(Dir("memory"), *r.memory));
  if (r.cpu && Has("cpu")) BERTH_TRY(ApplyCpu(Dir("cpu"), *r.cpu));
  if (r.pids_limit && Has("pids")) BERTH_TRY(ApplyPids(Dir("pids"), *r.pids_limit));
  if (BlockIoSet(r.block_io)) BERTH_TRY(ApplyBlkio(Dir("blkio"), *r.block_io));
  if (!r.hugepage_limits.empty()) BERTH_TRY(ApplyHugetlb(Dir("hugetlb"), r.hugepage_limits));
  if (r.network && r.network->class_id)
    BERTH_TRY(ApplyNetCls(Dir("net_cls"), *r.network->class_id));
  if (r.network && !r.network->priorities.empty()) {
    BERTH_TRY(ApplyNetPrio(Dir("net_prio"), r.network->priorities));
  }
  if (!r.rdma.empty()) BERTH_TRY(ApplyRdma(Dir("rdma"), r.rdma));
  return Ok();
}

Status Driver::Apply(const Resources& r) {
  BERTH_TRY(CheckMounted(r));
  return ApplyLimits(r);
}

Status Driver::AddProcess(pid_t pid) {
  for (const Hierarchy& h : hierarchies_)
    BERTH_TRY(WriteProc(h.dir, pid));
  return Ok();
}

Result<SpawnJoin> Driver::OpenSpawnJoin() {
  SpawnJoin join;
  for (const Hierarchy& h : hierarchies_) {
    if (std::find(h.keys.begin(), h.keys.end(), kUnified) != h.keys.end()) {
      join.clone_into = {BERTH_TRY(berth::Open(h.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)), h.dir};
    } else {
      std::string tasks = PathJoin(h.dir, "tasks");
      join.self_join.push_back({BERTH_TRY(berth::Open(tasks, O_WRONLY | O_CLOEXEC)), tasks});
    }
  }
  return join;
}

bool Driver::CanFreeze() const {
  return V1Freezer() || (Has(kUnified) && KnobExists(Dir(kUnified), "cgroup.freeze"));
}

Status Driver::Freeze() {
  if (V1Freezer()) return v1::Freeze(Dir("freezer"));
  if (Has(kUnified)) return v2::Freeze(Dir(kUnified));
  return Error(Errc::kUnimplemented, "freeze: no freezer hierarchy is mounted");
}

Status Driver::Thaw() {
  if (V1Freezer()) return v1::Thaw(Dir("freezer"));
  if (Has(kUnified)) return v2::Thaw(Dir(kUnified));
  return Error(Errc::kUnimplemented, "thaw: no freezer hierarchy is mounted");
}

Result<FreezerState> Driver::GetFreezerState() {
  if (V1Freezer()) return v1::GetFreezerState(Dir("freezer"));
  if (Has(kUnified)) return v2::GetFreezerState(Dir(kUnified));
  return FreezerState::kThawed;
}

// Any hierarchy lists every process; prefer the ones runc reads.
const std::string& Driver::PidsDir() const {
  for (const char* key : {"pids", "freezer", "devices", "memory", "cpu"}) {
    if (Has(key)) return Dir(key);
  }
  return hierarchies_.front().dir;
}

// As runc's kill --all: freeze, signal every pid, thaw; a paused container
// stays paused for a catchable signal, SIGKILL thaws it so it dies.
Status Driver::Kill(int signal) {
  bool can_freeze = CanFreeze();
  FreezerState before = can_freeze ? BERTH_TRY(GetFreezerState()) : FreezerState::kThawed;
  bool froze = false;
  if (can_freeze && before != FreezerState::kFrozen) {
    Status s = Freeze();
    if (!s.ok()) {
      BLOG(kWarn) << "signalling unfrozen: " << s.error().str();
    }
    froze = s.ok();
  }
  Status signalled = SignalPids(BERTH_TRY(Pids()), signal);
  if (froze || (before == FreezerState::kFrozen && signal == SIGKILL)) BERTH_TRY(Thaw());
  return signalled;
}

Result<Stats> Driver::GetStats() {
  if (!PathExists(PidsDir())) return Error::Sys("stat", PidsDir(), ENOENT);
  Stats s;
  if (Has("cpu")) BERTH_TRY(ReadCpuStats(Dir("cpu"), &s));
  if (Has("cpuacct")) BERTH_TRY(ReadCpuacctStats(Dir("cpuacct"), &s));
  if (Has("cpuset")) BERTH_TRY(ReadCpusetStats(Dir("cpuset"), &s));
  if (Has("memory")) BERTH_TRY(ReadMemoryStats(Dir("memory"), &s));
  if (Has("pids")) BERTH_TRY(ReadPidsStats(Dir("pids"), &s));
  if (Has("blkio")) BERTH_TRY(ReadBlkioStats(Dir("blkio"), &s));
  if (Has("hugetlb")) BERTH_TRY(ReadHugetlbStats(Dir("hugetlb"), &s));
  return s;
}

Result<uint64_t> Driver::OomKillCount() {
  if (!Has("memory")) return 0;
  return ReadOomKills(Dir("memory"));
}

// Every hierarchy is attempted; the first failure is reported.
Status Driver::Destroy() {
  Status first;
  for (const Hierarchy& h : hierarchies_) {
    Status s = RemoveCgroup(h.dir);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

}  // namespace

Result<DriverPtr> NewDriver(const Placement& placement) {
  if (placement.paths.empty()) {
    return Error(Errc::kInvalidArgument, "open cgroup: the placement names no hierarchy");
  }
  for (const auto& [key, dir] : placement.paths) {
    auto root = placement.roots.find(key);
    if (root == placement.roots.end()) {
      return Error(Errc::kInvalidArgument,
                   "open cgroup: no berth root for hierarchy `" + key + "`");
    }
    BERTH_TRY(CheckConfined(key, dir, root->second));
  }
  return DriverPtr(std::make_unique<Driver>(placement));
}

}  // namespace berth::cgroups::v1
