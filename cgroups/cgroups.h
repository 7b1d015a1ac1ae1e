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
// Lifecycle: Resolve -> Open -> Create -> Apply -> AddProcess (or
// OpenSpawnJoin) ... Freeze/Thaw,
// Stats, Pids, Kill ... Destroy.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/resources.h"
#include "cgroups/spawn_join.h"
#include "cgroups/stats.h"
#include "common/error.h"

namespace berth::cgroups {

enum class Mode { kV1, kHybrid, kV2 };
const char* ModeName(Mode mode);  // "v1", "hybrid", "v2"
Result<Mode> ModeFromName(std::string_view name);

// The key of the v2 (or hybrid unified) hierarchy in Layout/Placement maps.
inline constexpr const char* kUnified = "unified";

// What is mounted where. Detect() reads /proc/self/mountinfo and keeps the
// cgroup mounts under the mount root; ParseLayout is the pure core for tests.
struct Layout {
  Mode mode = Mode::kV2;
  std::string mount_root = "/sys/fs/cgroup";
  // v1: controller (or "name=systemd") -> mount directory. A comounted
  // hierarchy ("cpu,cpuacct") lists each controller with the same directory.
  std::map<std::string, std::string> v1_mounts;
  // v1: controller -> the cgroup shown at the mount directory (mountinfo's
  // "root" field): "/" normally, a subtree for a bind mount or a cgroup
  // namespace. Cgroup paths are translated relative to it.
  std::map<std::string, std::string> v1_mount_roots;
  // v2 / hybrid unified hierarchy mount ("" when absent) and its root.
  std::string unified_mount;
  std::string unified_mount_root = "/";
};
Result<Layout> Detect(const std::string& mount_root = "/sys/fs/cgroup");
// Pure: the cgroup mounts in `mountinfo` (the text of /proc/<pid>/mountinfo)
// under `mount_root`. NotFound when nothing is mounted there.
Result<Layout> ParseLayout(std::string_view mountinfo, const std::string& mount_root);

struct Placement {
  Mode mode = Mode::kV2;
  // Hierarchy key -> absolute cgroup directory. Keys: v1 controller names
  // ("memory", "cpu", "name=systemd", ...) and "unified" for the v2/unified
  // hierarchy.
  std::map<std::string, std::string> paths;
  // Same keys -> the cgroup path inside the hierarchy ("/berth/abc"), as
  // /proc/<pid>/cgroup shows it; used for cgroup mounts inside containers.
  std::map<std::string, std::string> relative;
  // Same keys -> the berth root's directory. Every write the drivers make is
  // to this directory or below it; paths[k] is strictly below roots[k].
  std::map<std::string, std::string> roots;
};

struct ResolveOptions {
  // "" = own cgroup; an absolute hierarchy path ("/berth-test-1") is the same
  // path in every hierarchy; a relative one ("berth-test-1") is beneath the
  // own cgroup of each hierarchy (which differ on v1).
  std::string berth_root;
  std::string cgroups_path;  // OCI linux.cgroupsPath; "" = "<berth root>/<container id>"
  std::string container_id;
  pid_t self_pid = 0;  // whose /proc/<pid>/cgroup gives "own cgroup"; 0 = self
};
// Pure given the layout and the content of /proc/<pid>/cgroup.
Result<Placement> Resolve(const Layout& layout, const ResolveOptions& options,
                          const std::string& proc_self_cgroup);
// Reads /proc/<pid>/cgroup and resolves.
Result<Placement> Resolve(const Layout& layout, const ResolveOptions& options);

// Pure: /proc/<pid>/cgroup text -> hierarchy key -> cgroup path. v1 lines
// ("4:cpu,cpuacct:/x") give one key per controller, the v2 line ("0::/x")
// gives "unified".
Result<std::map<std::string, std::string>> ParseProcCgroup(std::string_view text);

enum class FreezerState { kThawed, kFreezing, kFrozen };
const char* FreezerStateName(FreezerState state);  // "thawed", "freezing", "frozen"

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
  // and value. A limit for a controller that is not available is an error
  // naming the field (linux.resources.<...>).
  virtual Status Apply(const Resources& resources) = 0;
  virtual Status AddProcess(pid_t pid) = 0;
  // Opens what a process about to be created needs to join without
  // AddProcess (see spawn_join.h).
  virtual Result<SpawnJoin> OpenSpawnJoin() = 0;
  virtual Status Freeze() = 0;  // returns once frozen
  virtual Status Thaw() = 0;
  virtual Result<FreezerState> GetFreezerState() = 0;
  // Every pid in the cgroup and its descendants.
  virtual Result<std::vector<pid_t>> Pids() = 0;
  // Signals every process; SIGKILL on v2 uses cgroup.kill when available.
  // Otherwise the cgroup is frozen, every pid signalled, and thawed again
  // (so nothing forks past the signal), as runc's kill --all does.
  virtual Status Kill(int signal) = 0;
  virtual Result<Stats> GetStats() = 0;
  // OOM kills so far (v2 memory.events oom_kill; v1 memory.oom_control
  // oom_kill). Cheaper than GetStats for exit-reason checks.
  virtual Result<uint64_t> OomKillCount() = 0;
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
