#pragma once
// The `berth cri` side of the shim protocol (protocol.h): launching a pod's
// shim and one connection per request, so that any number of threads can
// talk to the same shim.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth::shim {

struct LaunchOptions {
  std::string binary;  // path of berth-shim
  std::string id;      // the pod sandbox
  std::string dir;     // the shim's state directory (created if missing)
  std::string runtime_root;
  std::string cgroup_root;
};
// Starts the shim and waits until it serves <dir>/shim.sock; its pid.
Result<pid_t> LaunchShim(const LaunchOptions& options);

std::string SocketPath(const std::string& dir);

struct CreateRequest {
  std::string id;
  std::string bundle;
  bool stdin = false;
  bool stdin_once = false;
  bool tty = false;
  std::string log_path;  // "" = no log (the sandbox's pause)
};
Result<pid_t> Create(const std::string& dir, const CreateRequest& request);

struct ExecStarted {
  pid_t pid = -1;
  UniqueFd conn;  // `exit <status>` arrives here: WaitExec
};
// fds: the console socket with `tty`, else [stdin if `stdin`], stdout, stderr.
Result<ExecStarted> Exec(const std::string& dir, const std::string& id,
                         const std::string& process_json, bool stdin, bool tty,
                         std::span<const int> fds);
// The exec'd process's wait status; DeadlineExceeded after `timeout_ms` (<0: none).
Result<int> WaitExec(int conn, int timeout_ms);

struct Attached {
  UniqueFd conn;      // data frames, then exit
  UniqueFd stdin;     // when the container has stdin (and it is not taken)
  UniqueFd terminal;  // the pty master, with a tty
};
Result<Attached> Attach(const std::string& dir, const std::string& id);

// A connection that receives `exit <id> <status> <unix ns>` messages.
Result<UniqueFd> Subscribe(const std::string& dir);

struct ShimContainer {
  std::string id;
  pid_t pid = -1;
  std::optional<int> exit_status;  // a wait status, once exited
};
Result<std::vector<ShimContainer>> List(const std::string& dir);

Status Reopen(const std::string& dir, const std::string& id);
Status Forget(const std::string& dir, const std::string& id);
// Asks the shim to exit (refused while a container runs) and waits until
// it has, so its directory can go without the shim still writing there.
Status Shutdown(const std::string& dir,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// <dir>/exits/<id>: the wait status and wall-clock exit time, if recorded.
struct ExitRecord {
  int status = 0;
  int64_t finished_ns = 0;
};
Result<std::optional<ExitRecord>> ReadExitRecord(const std::string& dir, const std::string& id);

}  // namespace berth::shim
