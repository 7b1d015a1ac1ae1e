#pragma once
// cgroup v1 controllers (internal to cgroups/): one file each, writing the
// OCI fields it owns into that controller's directory as runc's fs package
// does, and reading its part of the stats. Unset fields are left alone.

#include <string>
#include <vector>

#include "cgroups/cgroups.h"
#include "cgroups/resources.h"
#include "cgroups/stats.h"
#include "common/error.h"

namespace berth::cgroups::v1 {

// The prefix of every field named in errors.
inline constexpr const char* kField = "linux.resources.";

// cpuset: cpus/mems; and the inheritance Create needs (a new v1 cpuset is
// empty, and an empty cpuset refuses tasks with ENOSPC).
Status ApplyCpuset(const std::string& dir, const CpuLimits& cpu);
// Copies cpus/mems from the parent into every empty level from the berth
// root down to `dir` (reading the root's parent, writing only at or below
// the root).
Status InheritCpuset(const std::string& root, const std::string& dir);
Status ReadCpusetStats(const std::string& dir, Stats* stats);

// devices: the minimal devices.allow/devices.deny writes from the current
// devices.list to the emulated target, then (on cgroupfs) a check that the
// kernel's list matches.
Status ApplyDevices(const std::string& dir, const std::vector<DeviceRule>& rules);

// memory: limit/swap (ordered so neither write fails the other), soft
// limit, swappiness, OOM killer; kernel memory ignored.
Status ApplyMemory(const std::string& dir, const MemoryLimits& memory);
Status ReadMemoryStats(const std::string& dir, Stats* stats);
Result<uint64_t> ReadOomKills(const std::string& dir);

// cpu: shares (read back), CFS quota/period/burst, RT runtime/period, idle.
Status ApplyCpu(const std::string& dir, const CpuLimits& cpu);
Status ReadCpuStats(const std::string& dir, Stats* stats);
// cpuacct: usage totals, per CPU, user/system.
Status ReadCpuacctStats(const std::string& dir, Stats* stats);

Status ApplyPids(const std::string& dir, int64_t limit);
Status ReadPidsStats(const std::string& dir, Stats* stats);

Status ApplyBlkio(const std::string& dir, const BlockIo& io);
Status ReadBlkioStats(const std::string& dir, Stats* stats);

Status ApplyHugetlb(const std::string& dir, const std::vector<HugepageLimit>& limits);
Status ReadHugetlbStats(const std::string& dir, Stats* stats);

Status ApplyNetCls(const std::string& dir, uint32_t class_id);
Status ApplyNetPrio(const std::string& dir,
                    const std::vector<std::pair<std::string, uint32_t>>& priorities);
Status ApplyRdma(const std::string& dir,
                 const std::map<std::string, std::map<std::string, uint32_t>>& rdma);

// freezer: freezer.state FROZEN/THAWED, polled until the kernel settles.
Status Freeze(const std::string& dir);
Status Thaw(const std::string& dir);
Result<FreezerState> GetFreezerState(const std::string& dir);

}  // namespace berth::cgroups::v1
