#pragma once
// cgroup v2 controllers (internal to cgroups/): one file each, each writing
// the OCI fields it owns into one cgroup directory, as runc's fs2 maps them.
// Every function leaves unset fields alone. A field whose controller is not
// enabled for the cgroup is an error naming the field.

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "cgroups/cgroups.h"
#include "cgroups/resources.h"
#include "cgroups/stats.h"
#include "cgroups/v2/device_program.h"
#include "common/error.h"

namespace berth::cgroups::v2 {

// One cgroup directory and the controllers available in it (its
// cgroup.controllers, i.e. enabled in the parent's subtree_control).
struct Target {
  std::string dir;
  std::set<std::string, std::less<>> controllers;

  bool Has(std::string_view controller) const { return controllers.count(controller) != 0; }
  // "linux.resources.<field>: the <controller> controller is not available
  // in `<dir>` (cgroup.controllers: ...)" unless Has(controller).
  Status Require(std::string_view field, std::string_view controller) const;
};
Result<Target> LoadTarget(const std::string& dir);

// The prefix of every field named in errors.
inline constexpr const char* kField = "linux.resources.";

Status ApplyMemory(const Target& t, const MemoryLimits& memory);
Status ApplyCpu(const Target& t, const CpuLimits& cpu);
Status ApplyCpuset(const Target& t, const CpuLimits& cpu);
Status ApplyPids(const Target& t, int64_t limit);
Status ApplyIo(const Target& t, const BlockIo& io);
Status ApplyHugetlb(const Target& t, const std::vector<HugepageLimit>& limits);
Status ApplyRdma(const Target& t,
                 const std::map<std::string, std::map<std::string, uint32_t>>& rdma);
// Raw knobs: "<controller>.<knob>" or "cgroup.<knob>", no '/' or "..".
Status ApplyUnified(const Target& t, const std::map<std::string, std::string>& unified);

// The device filter seam: the real installer loads and attaches the program
// with bpf(2); unit tests record it instead.
class DeviceFilterInstaller {
 public:
  virtual ~DeviceFilterInstaller() = default;
  // Attaches `program` to the cgroup at `dir`, then detaches the programs
  // attached there before (berth's previous filter), so an update replaces
  // the filter without a window where neither applies.
  virtual Status Install(const std::string& dir, const BpfProgram& program) = 0;
};
using DeviceFilterInstallerPtr = std::unique_ptr<DeviceFilterInstaller>;
DeviceFilterInstallerPtr NewBpfDeviceFilterInstaller();
Status ApplyDevices(const Target& t, const std::vector<DeviceRule>& rules,
                    DeviceFilterInstaller* installer);

// Freezer: cgroup.freeze, then cgroup.events "frozen 1".
Status Freeze(const std::string& dir);
Status Thaw(const std::string& dir);
Result<FreezerState> GetFreezerState(const std::string& dir);

// Signals every process in the cgroup and below (cgroup.kill for SIGKILL
// when the kernel has it; otherwise freeze, signal each pid, thaw).
Status KillAll(const std::string& dir, int signal);

// Usage from memory.*, cpu.stat, pids.*, io.stat, hugetlb.*, memory.events.
Result<Stats> ReadStats(const std::string& dir);
// io.stat text -> io_service_bytes / io_serviced entries (pure).
Status ParseIoStat(std::string_view text, Stats* stats);
Result<uint64_t> ReadOomKills(const std::string& dir);

}  // namespace berth::cgroups::v2
