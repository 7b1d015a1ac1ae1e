#pragma once
// Spawning helper processes (hooks, peers in tests) and owning children.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth {

struct Command {
  std::vector<std::string> argv;  // argv[0] is the path (no PATH search if it has a '/')
  std::optional<std::vector<std::string>> env;  // unset: inherit
  std::string stdin_data;
  std::optional<std::chrono::milliseconds> timeout;  // killed with SIGKILL when exceeded
  std::string cwd;
  bool capture_output = true;  // false: inherit stdout/stderr
};

struct CommandResult {
  int exit_code = -1;   // when exited normally
  int term_signal = 0;  // when killed by a signal
  bool timed_out = false;
  std::string out;
  std::string err;
  bool success() const { return exit_code == 0 && term_signal == 0 && !timed_out; }
  // "exit status 2", "signal 9", "timed out after ..."
  std::string Describe() const;
};

Result<CommandResult> RunCommand(const Command& cmd);

// Decodes a waitpid status the way shells do: exit code, or 128+signal.
int ExitCodeFromWaitStatus(int status);

// waitpid that retries EINTR.
Result<int> WaitPid(pid_t pid, int flags = 0);

// Owns a child: on destruction, if still owned, SIGKILLs and reaps it (like
// crun's cleanup_pid), so no error path leaves a half-made container behind.
class ChildGuard {
 public:
  ChildGuard() = default;
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ChildGuard(ChildGuard&& o) noexcept : pid_(o.release()) {}
  ChildGuard& operator=(ChildGuard&& o) noexcept;
  ~ChildGuard() { KillAndReap(); }

  pid_t get() const { return pid_; }
  pid_t release() {
    pid_t p = pid_;
    pid_ = -1;
    return p;
  }
  void KillAndReap();

 private:
  pid_t pid_ = -1;
};

}  // namespace berth
