#pragma once
// A Backend for tests that runs real processes on the host: Exec runs
// req.cmd with pipes (or a pty for tty), Attach attaches to a "container"
// process started with StartContainer, PortForward connects to
// 127.0.0.1:<port>.

#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/testkit.h"
#include "runtime/cri/streaming/backend.h"

namespace berth::cri::streaming::testing {

class TestBackend : public Backend {
 public:
  ~TestBackend() override;

  Result<ProcessStreams> Exec(const ExecRequest& req, ExitHandler on_exit) override;
  Result<ProcessStreams> Attach(const AttachRequest& req, ExitHandler on_exit) override;
  Result<UniqueFd> PortForward(const std::string& pod_sandbox_id, int32_t port) override;

  // A long-running process Attach can later attach to (once).
  Status StartContainer(const std::string& id, const std::vector<std::string>& argv, bool tty);

  int cancels() const;
  std::vector<TerminalSize> resizes() const;
  std::vector<std::pair<std::string, int32_t>> forwards() const;

 private:
  struct Spawned {
    pid_t pid = -1;
    ProcessStreams streams;
  };
  Result<Spawned> Spawn(const std::vector<std::string>& argv, bool tty, bool want_stdin);
  // Waits for `pid` on a thread and reports its exit code.
  void Watch(pid_t pid, ExitHandler on_exit);

  struct Container {
    ProcessStreams streams;
    bool attached = false;
    bool exited = false;
    int exit_code = 0;
    ExitHandler on_exit;
  };

  mutable std::mutex mu_;
  std::vector<std::thread> waiters_;
  std::vector<pid_t> pids_;
  std::map<std::string, std::shared_ptr<Container>> containers_;
  int cancels_ = 0;
  std::vector<TerminalSize> resizes_;
  std::vector<std::pair<std::string, int32_t>> forwards_;
};

// A loopback TCP echo server on its own thread.
class EchoServer {
 public:
  EchoServer();
  ~EchoServer();
  uint16_t port() const { return port_; }

 private:
  void Run();
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
};

using berth::testing::UnusedPort;  // common/testing/testkit.h

}  // namespace berth::cri::streaming::testing
