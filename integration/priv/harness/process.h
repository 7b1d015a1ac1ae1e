#pragma once
// Running commands in a test process that is a child subreaper.
//
// Container inits outlive the runtime command that made them (runc and
// berth-runc exit after `create`), so they are reparented. This VM's PID 1
// reaps adopted orphans lazily, and until it does, a dead init keeps its pid
// namespace alive; so the test process makes itself a subreaper (as
// containerd's shim does) and a reaper thread reaps every child: its own
// commands and adopted containers alike. Each exit status is recorded by
// pid, and the spawners wait for their entry instead of calling waitpid(2),
// so nothing steals a status.
//
// Races: the reaper reaps and records under one lock, and Run() forks under
// the same lock and drops any stale entry for the new pid before unlocking,
// so an entry always belongs to the latest process with that pid.

#include <sys/types.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace berth::priv {

// prctl(PR_SET_CHILD_SUBREAPER) and the reaper thread; idempotent. Every
// fixture calls it before it starts anything.
void InstallReaper();

// Waits for the recorded wait status of `pid` (a child or an adopted
// orphan) and consumes it; nullopt on timeout.
std::optional<int> WaitStatus(pid_t pid, std::chrono::milliseconds timeout);

// Takes ownership of a pid that some other process forked (a container
// init): drops a stale entry for it unless the process already exited and
// was recorded.
void ClaimPid(pid_t pid);

// "exit 3", "signal 9", "running" (nullopt).
std::string DescribeStatus(std::optional<int> status);

struct RunOptions {
  std::string stdin_data;                     // fed from a memfd
  std::chrono::milliseconds timeout{30'000};  // SIGKILL when exceeded
  std::vector<std::string> env;               // KEY=VALUE added to ours
  std::string cwd;
};

struct RunResult {
  int status = -1;  // raw wait status; -1 when it could not be started
  bool timed_out = false;
  std::string out, err;
  int exit_code() const;  // shell style: 128+signal when killed
  std::string Describe() const;
};

RunResult Run(const std::vector<std::string>& argv, const RunOptions& options = {});

// A memfd that processes inherit as stdout or stderr. Readable any time
// (container output keeps arriving after the runtime command has exited).
class OutputFile {
 public:
  explicit OutputFile(const char* name);
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();
  int fd() const { return fd_; }
  std::string Read() const;

 private:
  int fd_ = -1;
};

// Runs with stdout/stderr going to the given files (not captured in the
// result), stdin from /dev/null: for commands whose children keep the
// descriptors (`create`, `run -d`, `exec -d`).
RunResult RunWithFiles(const std::vector<std::string>& argv, const OutputFile& out,
                       const OutputFile& err, const RunOptions& options = {});

// Polls `probe` every few milliseconds until it returns true or `timeout`
// passes; returns the last result.
template <class F>
bool PollUntil(F probe, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (probe()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    struct timespec ts {
      0, 5'000'000
    };
    ::nanosleep(&ts, nullptr);
  }
}

}  // namespace berth::priv
