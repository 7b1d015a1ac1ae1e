#pragma once
// A containerd of the test's own (Debian's containerd 1.6): root, state,
// sockets, FIFOs and runc state all in one temporary directory, every
// plugin that writes outside that directory disabled, the CRI plugin off
// unless asked for, log to a file. Plus the cleanup containerd needs that a TempDir cannot
// give: mounts it leaves under its root and state (overlay snapshots, task
// rootfs) and the shims it started.
//
// Lifecycle: Start -> Ctr(...)... -> Stop (SIGTERM, SIGKILL after 10 s) ->
// KillShims -> UnmountUnder(dir) -> remove dir.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/process.h"

namespace berth::integration {

// The CRI plugin's settings: runc (cgroupfs) with its root under the
// containerd dir, overlayfs, streaming on 127.0.0.1 (any port), netns under
// the state dir, restrict_oom_score_adj (no CAP_SYS_RESOURCE here), no
// AppArmor profile.
struct ContainerdCri {
  std::string sandbox_image = "berth.invalid/pause:unused";  // pulled only to run a pod
  std::string cni_bin_dir;                                   // "" = <dir>/cni/bin, made empty
  std::string cni_conf_dir;                                  // "" = <dir>/cni/net.d, made empty
  std::string registry_config_path;  // hosts.toml tree; "" = <dir>/certs.d, made empty
  std::string runc_binary;           // "" = runc on PATH
};

struct ContainerdOptions {
  std::string dir;                // everything containerd writes goes here
  std::string ns = "berth-test";  // the containerd namespace ctr uses
  std::vector<std::string> env;   // NAME=VALUE added to containerd's environment
  std::string log_level = "debug";
  std::optional<ContainerdCri> cri;  // the CRI plugin on, with these settings
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

// The containerd config (version 2) for `options`: pure, for reading (the
// CRI directories left "" are named, not made).
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
