#pragma once
// The OCI container lifecycle (runtime-spec runtime.md): create, start,
// kill, delete, plus runc's pause/resume/update/exec/ps/events. One function
// per operation, each in its own file; the runc-compatible CLI and the CRI
// service call these.
//
// Error wording follows runc where containerd's shim parses it:
// "container does not exist", "container not running".

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "cgroups/cgroups.h"
#include "common/error.h"
#include "runtime/oci/spec.h"
#include "runtime/oci/state.h"

namespace berth::runtime::oci {

struct RuntimeOptions {
  std::string root = "/run/berth/runc";  // state directory (--root)
  // Compiled seccomp programs (security::CompileSeccompCached); the '@'
  // keeps it apart from every container's directory (no id has one).
  std::string SeccompCacheDir() const { return root + "/@seccomp-cache"; }
  // berth's cgroup root: "" = the cgroup the runtime runs in (see cgroups.h).
  std::string cgroup_root;
};

struct CreateOptions {
  std::string id;
  std::string bundle;  // "" = current directory
  std::string pid_file;
  std::string console_socket;
  int console_socket_fd = -1;  // instead of a path: `run` in the foreground
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
};

// Leaves the init blocked before the user process; returns its pid.
Result<pid_t> CreateContainer(const RuntimeOptions& rt, const CreateOptions& opts);
Status StartContainer(const RuntimeOptions& rt, const std::string& id);
Status KillContainer(const RuntimeOptions& rt, const std::string& id, int signal, bool all);
Status DeleteContainer(const RuntimeOptions& rt, const std::string& id, bool force);
Status PauseContainer(const RuntimeOptions& rt, const std::string& id);
Status ResumeContainer(const RuntimeOptions& rt, const std::string& id);
Status UpdateContainer(const RuntimeOptions& rt, const std::string& id,
                       const cgroups::Resources& resources);

struct ContainerInfo {
  ContainerState state;
  ContainerStatus status = ContainerStatus::kStopped;
};
Result<ContainerInfo> GetContainer(const RuntimeOptions& rt, const std::string& id);
Result<std::vector<ContainerInfo>> ListContainers(const RuntimeOptions& rt);
Result<std::vector<pid_t>> ContainerPids(const RuntimeOptions& rt, const std::string& id);
Result<cgroups::Stats> ContainerStats(const RuntimeOptions& rt, const std::string& id);
// OOM kills counted by the container's cgroup; also after the container has
// stopped, as long as it is not deleted (an OOM-killed init stops it).
Result<uint64_t> ContainerOomKills(const RuntimeOptions& rt, const std::string& id);

struct ExecOptions {
  std::string id;
  Process process;
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  int console_socket_fd = -1;
  int preserve_fds = 0;
  bool ignore_paused = false;
  pid_t* started_pid = nullptr;  // set to the process's pid once it runs
};
// Runs a process in the container; returns its exit code (0 when detached).
Result<int> ExecInContainer(const RuntimeOptions& rt, const ExecOptions& opts);

// Waits until the process with `pid` (started at `start_time`) exits; false
// on timeout. Works for processes that are not our children (pidfd).
bool WaitForExit(pid_t pid, uint64_t start_time, int timeout_ms);

}  // namespace berth::runtime::oci
