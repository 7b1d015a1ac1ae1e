#pragma once
// Container state kept under the runtime root: <root>/<id>/state.json
// (written atomically), config.json (the spec the container was created
// with) and exec.fifo while the container is created but not started.
//
// Status is derived, never stored: the init pid plus its start time (so a
// reused pid reads as stopped), the exec fifo (created), and the freezer
// (paused).

#include <sys/types.h>

#include <string>
#include <vector>

#include "cgroups/cgroups.h"
#include "common/error.h"
#include "runtime/oci/spec.h"

namespace berth::runtime::oci {

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* StatusName(ContainerStatus status);

struct ContainerState {
  std::string id;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339 with nanoseconds
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // /proc/<pid>/stat field 22
  StringPairs annotations;
  bool has_cgroup = false;
  cgroups::Placement cgroup;
  // Namespaces the container created, by OCI name, so exec and kill know
  // what to join and whether killing init ends everything.
  std::vector<std::string> own_namespaces;
  bool OwnsNamespace(ns::Kind kind) const;
};

// Container ids as runc accepts them: [A-Za-z0-9_+.-]+, not "." or "..".
Status ValidateId(const std::string& id);

class StateDir {
 public:
  // Creates <root>/<id> exclusively; AlreadyExists when the id is taken.
  static Result<StateDir> Create(const std::string& root, const std::string& id);
  // NotFound ("container does not exist") when there is no such container.
  static Result<StateDir> Open(const std::string& root, const std::string& id);

  const std::string& path() const { return path_; }
  std::string FifoPath() const { return path_ + "/exec.fifo"; }
  std::string ConfigPath() const { return path_ + "/config.json"; }

  Status Save(const ContainerState& state) const;
  Result<ContainerState> Load() const;
  Result<Spec> LoadSpec() const;
  Status Remove() const;

 private:
  explicit StateDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

Result<std::vector<std::string>> ListContainerIds(const std::string& root);

// Start time of a process in clock ticks since boot; NotFound when gone.
Result<uint64_t> ProcessStartTime(pid_t pid);
// True when `pid` is the process recorded (same start time) and not a zombie.
bool ProcessAlive(pid_t pid, uint64_t start_time);

ContainerStatus ComputeStatus(const ContainerState& state, const StateDir& dir);

// The OCI state document (runtime.md "State"), as hooks receive it on stdin.
std::string OciStateJson(const ContainerState& state, ContainerStatus status);
// `runc state` output: the OCI state plus rootfs, created and owner, in
// runc's field order, indented like Go's json.MarshalIndent.
std::string RuncStateJson(const ContainerState& state, ContainerStatus status,
                          const std::string& owner, bool indent);

}  // namespace berth::runtime::oci
