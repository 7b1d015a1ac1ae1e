#pragma once
// cgroups: placing a container's processes in control groups and limiting
// them, on a pure cgroup v2 host or on a v1/hybrid one (v1 controllers, with
// the unified hierarchy used for membership where it is mounted).
//
// Vocabulary
//   mount root   where the hierarchies are mounted (/sys/fs/cgroup); tests
//                pass a temp directory.
//   berth root   the subtree berth may write in. Default: the cgroup this
//                process runs in (per hierarchy on v1). Nothing outside it is
//                ever created or written.
//   cgroups path the OCI linux.cgroupsPath. Relative paths resolve under the
//                berth root exactly as runc resolves them under its own
//                cgroup; absolute paths resolve under the berth root as if
//                berth ran in a cgroup namespace rooted there.
//   Placement    the resolved absolute directory of one container's cgroup in
//                every hierarchy; saved in the container state so later
//                commands reopen the same cgroups from any cgroup.
//
// Lifecycle: Resolve -> Open -> Create -> Apply -> AddProcess ... Freeze/Thaw,
// Stats, Pids, Kill ... Destroy.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/resources.h"
#include "cgroups/stats.h"
#include "common/error.h"

namespace berth::cgroups {

enum class Mode { kV1, kHybrid, kV2 };
const char* ModeName(Mode mode);

// What is mounted where. Detect() reads /proc/self/mountinfo-equivalent data
// from the mount root; pure functions below take it as input for tests.
struct Layout {
  Mode mode = Mode::kV2;
  std::string mount_root = "/sys/fs/cgroup";
  // v1: controller (or "name=systemd") -> mount directory. A comounted
  // hierarchy ("cpu,cpuacct") lists each controller with the same directory.
  std::map<std::string, std::string> v1_mounts;
  // v2 / hybrid unified hierarchy mount ("" when absent).
  std::string unified_mount;
};
Result<Layout> Detect(const std::string& mount_root = "/sys/fs/cgroup");

struct Placement {
  Mode mode = Mode::kV2;
  // Hierarchy key -> absolute cgroup directory. Keys: v1 controller names
  // ("memory", "cpu", "name=systemd", ...) and "unified" for the v2/unified
  // hierarchy.
  std::map<std::string, std::string> paths;
  // Same keys -> the cgroup path inside the hierarchy ("/berth/abc"), as
  // /proc/<pid>/cgroup shows it; used for cgroup mounts inside containers.
  std::map<std::string, std::string> relative;
};

struct ResolveOptions {
  std::string berth_root;     // "" = own cgroup; otherwise a hierarchy path ("/berth-test-1")
  std::string cgroups_path;   // OCI linux.cgroupsPath; "" = "<berth root>/<container id>"
  std::string container_id;
  pid_t self_pid = 0;         // whose /proc/<pid>/cgroup gives "own cgroup"; 0 = self
};
// Pure given the layout and the content of /proc/<pid>/cgroup.
Result<Placement> Resolve(const Layout& layout, const ResolveOptions& options,
                          const std::string& proc_self_cgroup);
// Reads /proc/<pid>/cgroup and resolves.
Result<Placement> Resolve(const Layout& layout, const ResolveOptions& options);

enum class FreezerState { kThawed, kFreezing, kFrozen };

// One container's cgroup in every hierarchy.
class Driver {
 public:
  virtual ~Driver() = default;

  // mkdir in every hierarchy (parents too, idempotent); v1 cpuset copies
  // cpus/mems from the parent; v2 enables the needed controllers in
  // cgroup.subtree_control from the berth root down.
  virtual Status Create() = 0;
  // Writes every limit that `resources` sets; fields left unset stay as they
  // are (so `update` changes only what it names). Errors name the knob file
  // and value.
  virtual Status Apply(const Resources& resources) = 0;
  virtual Status AddProcess(pid_t pid) = 0;
  virtual Status Freeze() = 0;  // returns once frozen
  virtual Status Thaw() = 0;
  virtual Result<FreezerState> GetFreezerState() = 0;
  // Every pid in the cgroup and its descendants.
  virtual Result<std::vector<pid_t>> Pids() = 0;
  // Signals every process; SIGKILL on v2 uses cgroup.kill when available.
  virtual Status Kill(int signal) = 0;
  virtual Result<Stats> GetStats() = 0;
  // Removes the cgroup directories (leaf to root of what Create made below
  // the berth root is NOT removed: only the container's own directory);
  // retries EBUSY briefly; a missing directory is not an error.
  virtual Status Destroy() = 0;
  virtual const Placement& placement() const = 0;
};
using DriverPtr = std::unique_ptr<Driver>;

Result<DriverPtr> Open(const Placement& placement);

// Placement <-> JSON (for the container state file).
std::string PlacementToJson(const Placement& placement);
Result<Placement> PlacementFromJson(const std::string& json);

}  // namespace berth::cgroups
