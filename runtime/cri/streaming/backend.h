#pragma once
// The runtime side of CRI streaming: what the streaming server asks of the
// CRI implementation once a client has connected to an exec, attach or
// port-forward URL.
//
// Vocabulary and lifecycle:
//   - A *request* (ExecRequest, AttachRequest, PortForwardRequest) is what
//     the CRI RPC carried; Server::GetExec() etc. cache it behind a one-time
//     token and return the URL.
//   - When a client connects to that URL and the upgrade (SPDY/3.1 or
//     WebSocket) has succeeded, the server calls the Backend on its event
//     loop thread: Exec/Attach must start (or attach to) the process and
//     return its stdio as file descriptors; PortForward must return a
//     connected stream socket. These calls must not block for long.
//   - The server then pumps bytes between those fds and the protocol streams
//     itself. The backend reports the end of the process through the
//     ExitHandler, from any thread, exactly once. The server waits for that
//     and for EOF on stdout/stderr (bounded by Config::output_drain_timeout)
//     before it sends the final status to the client.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth::cri::streaming {

// The CRI request messages, as far as streaming uses them (runtime.v1
// ExecRequest, AttachRequest, PortForwardRequest).
struct ExecRequest {
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
};

struct AttachRequest {
  std::string container_id;
  bool stdin = false;
  bool tty = false;
  bool stdout = false;
  bool stderr = false;
};

struct PortForwardRequest {
  std::string pod_sandbox_id;
  std::vector<int32_t> port;
};

// A terminal resize event, as remotecommand sends it ({"Width":w,"Height":h}).
struct TerminalSize {
  uint16_t width = 0;
  uint16_t height = 0;
  bool operator==(const TerminalSize&) const = default;
};

// The stdio of one exec or attach session. Every fd is optional: an unset
// fd means "not connected" (e.g. stderr with a tty). The server takes
// ownership and closes each fd when done with it; stdin_fd is closed when the
// client closes its stdin. fds may be pipes, a pty master (dup it for stdin
// and stdout) or sockets, anything epoll can wait on.
struct ProcessStreams {
  UniqueFd stdin_fd;   // the server writes the client's stdin here
  UniqueFd stdout_fd;  // the server reads until EOF (EIO on a pty counts as EOF)
  UniqueFd stderr_fd;
  // tty only: applies a terminal size (e.g. SetTerminalSize on the pty
  // master). Called on the server's event loop thread.
  std::function<void(TerminalSize)> resize;
  // Called (on the event loop thread) if the client goes away before the
  // ExitHandler was called; the backend decides what that means (kill the
  // exec'd process, detach, ...). Optional.
  std::function<void()> cancel;
};

// Reports the end of an exec'd process (its exit code, 128+signal when
// killed) or of an attach session (the code is ignored: attach reports
// Success like kubelet), or an error. May be called from any thread, also
// from inside Exec/Attach, and after the server stopped (then it is ignored).
using ExitHandler = std::function<void(Result<int> exit_code)>;

class Backend {
 public:
  virtual ~Backend() = default;

  // Starts req.cmd in container req.container_id. An error is sent to the
  // client as an InternalError status ("error executing command in
  // container: ...").
  virtual Result<ProcessStreams> Exec(const ExecRequest& req, ExitHandler on_exit) = 0;

  // Attaches to the main process of req.container_id.
  virtual Result<ProcessStreams> Attach(const AttachRequest& req, ExitHandler on_exit) = 0;

  // Connects to `port` inside the network namespace of the sandbox and
  // returns the connected stream socket. Called once per forwarded
  // connection.
  virtual Result<UniqueFd> PortForward(const std::string& pod_sandbox_id, int32_t port) = 0;
};

using BackendPtr = std::shared_ptr<Backend>;

// TIOCSWINSZ on a terminal fd (the kernel then signals SIGWINCH to the
// terminal's foreground process group).
Status SetTerminalSize(int fd, TerminalSize size);

}  // namespace berth::cri::streaming
