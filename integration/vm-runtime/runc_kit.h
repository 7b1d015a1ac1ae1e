#pragma once
// Driving berth-runc from a test the way a container manager does: bundles
// from the busybox fixture rootfs, the runc command line with a private
// state root and cgroup root, and detached commands (`create`, `events`)
// whose output goes to files, since the container inherits their stdio.
//
// The test process should be a child subreaper (prctl
// PR_SET_CHILD_SUBREAPER): a detached container's init is then re-parented
// to it when `berth-runc create` exits, and ReapChildren collects it.

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/process.h"

namespace berth::integration {

// A bundle directory with a config.json based on `berth-runc spec`, with
// no terminal, the fixture rootfs read-only, and /tmp a tmpfs.
class Bundle {
 public:
  // `runc` is the berth-runc binary, `rootfs` an absolute directory.
  static Result<Bundle> Make(const std::string& runc, const std::string& dir,
                             const std::string& rootfs);

  boost::json::object& spec() { return spec_; }
  boost::json::object& linux_section();
  boost::json::object& resources();  // linux.resources, created on demand
  void SetArgs(const std::vector<std::string>& args);
  void SetCgroupsPath(const std::string& path);
  // A read-write bind mount of the host directory `source` at `destination`.
  void AddBind(const std::string& source, const std::string& destination);
  Status Write() const;  // config.json

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  boost::json::object spec_;
};

// A process started in the background with stdin from /dev/null and
// stdout+stderr appended to a file.
class Background {
 public:
  static Result<Background> Start(const std::vector<std::string>& argv, const std::string& output);
  Background() = default;
  Background(Background&& o) noexcept;
  Background& operator=(Background&& o) noexcept;
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background();  // SIGKILL + reap if still running

  // The wait status, or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Output() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string output_;
};

// berth-runc with a private --root and --cgroup-root.
class BerthRunc {
 public:
  BerthRunc(std::string binary, std::string state_root, std::string cgroup_root)
      : binary_(std::move(binary)),
        root_(std::move(state_root)),
        cgroup_root_(std::move(cgroup_root)) {}

  std::vector<std::string> Argv(const std::vector<std::string>& args) const;
  // Runs to completion with output captured (not for `create`/`run -d`:
  // the container would hold the pipes open).
  Result<CommandResult> Run(const std::vector<std::string>& args,
                            std::chrono::seconds timeout = std::chrono::seconds(120)) const;
  // `create --bundle <dir> <id>` in the background, the container's stdio
  // going to `output`; waits for create to finish.
  Status Create(const std::string& bundle, const std::string& id, const std::string& output) const;
  Result<std::string> ContainerStatus(const std::string& id) const;  // `state`: "status"
  Result<pid_t> InitPid(const std::string& id) const;

 private:
  std::string binary_, root_, cgroup_root_;
};

// waitpid for one child with a timeout: its wait status, or nullopt on
// timeout or when `pid` is not our child.
std::optional<int> WaitChild(pid_t pid, std::chrono::milliseconds timeout);

// waitpid(-1, WNOHANG) until nothing is left to reap right now.
void ReapChildren();

// Polls `done` every 50 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);

}  // namespace berth::integration
