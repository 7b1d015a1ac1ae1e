#pragma once
// A containerd of the test's own (Debian's containerd 1.6): root, state,
// sockets, FIFOs and runc state all in one temporary directory, the CRI
// plugin and every plugin that writes outside that directory disabled, debug
// log to a file. Plus the cleanup containerd needs that a TempDir cannot
// give: mounts it leaves under its root and state (overlay snapshots, task
// rootfs) and the shims it started.
//
// Lifecycle: Start -> Ctr(...)... -> Stop (SIGTERM, SIGKILL after 10 s) ->
// KillShims -> UnmountUnder(dir) -> remove dir.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/process.h"

namespace berth::integration {

struct ContainerdOptions {
  std::string dir;                // everything containerd writes goes here
  std::string ns = "berth-test";  // the containerd namespace ctr uses
  std::vector<std::string> env;   // NAME=VALUE added to containerd's environment
};

class Containerd {
 public:
  // Writes <dir>/config.toml, starts /usr/bin/containerd and waits until it
  // answers `ctr version`.
  static Result<std::unique_ptr<Containerd>> Start(const ContainerdOptions& options);
  Containerd(const Containerd&) = delete;
  Containerd& operator=(const Containerd&) = delete;
  ~Containerd();  // Stop()

  // SIGTERM, then SIGKILL after 10 s; reaps. Idempotent.
  Status Stop();
  // Stop, then start again on the same root and state (the shims, and so
  // the tasks, keep running meanwhile).
  Status Restart();

  // `ctr -a <socket> -n <ns> args...`, output captured, 60 s timeout.
  Result<CommandResult> Ctr(const std::vector<std::string>& args) const;

  pid_t pid() const { return pid_; }
  const std::string& dir() const { return options_.dir; }
  const std::string& ns() const { return options_.ns; }
  std::string socket() const { return options_.dir + "/containerd.sock"; }
  std::string fifo_dir() const { return options_.dir + "/fifo"; }
  std::string runc_root() const { return options_.dir + "/runc"; }
  std::string log_path() const { return options_.dir + "/containerd.log"; }
  // The runc shim's bundle for a task: config.json, log.json, shim.pid.
  std::string bundle(const std::string& id) const;
  // The whole log so far.
  std::string Log() const;

 private:
  explicit Containerd(ContainerdOptions options) : options_(std::move(options)) {}
  Status Launch();
  Status WaitReady();

  ContainerdOptions options_;
  pid_t pid_ = -1;
};

// The containerd config (version 2) for `options`: pure, for reading.
std::string ContainerdConfig(const ContainerdOptions& options);

// SIGKILLs the shims whose bundles are under <dir>/state (shim.pid files):
// processes our containerd started. For teardown after a failure; a clean
// run leaves none.
void KillShims(const std::string& dir);

// Mount points at or below `dir` in /proc/self/mountinfo, deepest first.
Result<std::vector<std::string>> MountsUnder(const std::string& dir);
// Detaches every mount at or below `dir` (deepest first, a few passes for
// stacked mounts). Error naming what is still mounted.
Status UnmountUnder(const std::string& dir);

}  // namespace berth::integration
