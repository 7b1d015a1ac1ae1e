#pragma once
// One exec or attach session, independent of the wire protocol: calls the
// backend, pumps stdin/stdout/stderr between the process fds and the
// transport, applies resize events, and once the process has ended and its
// output is drained sends the status on the error stream and closes the
// connection (kubelet's ServeExec/ServeAttach).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cri/streaming/context.h"
#include "runtime/cri/streaming/fd_pump.h"
#include "runtime/cri/streaming/protocol.h"
#include "runtime/cri/streaming/status.h"
#include "runtime/cri/streaming/terminal.h"

namespace berth::cri::streaming {

// Where a session's output goes: SPDY streams or WebSocket channels.
class CommandTransport {
 public:
  virtual ~CommandTransport() = default;
  // Sends on kStdout/kStderr/kError; dropped when the client did not open
  // that stream. `sent` runs once the data left (or was dropped).
  virtual void Send(Channel ch, std::string data, std::function<void()> sent) = 0;
  // The output on `ch` ended (SPDY: FIN; WebSocket: nothing to say).
  virtual void CloseChannel(Channel ch) = 0;
  // Ends the connection gracefully after what was sent.
  virtual void Close() = 0;
};

struct CommandRequest {
  enum class Kind { kExec, kAttach };
  Kind kind = Kind::kExec;
  std::string container_id;
  std::vector<std::string> cmd;
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
  bool tty = false;
};

class CommandSession : public std::enable_shared_from_this<CommandSession> {
 public:
  CommandSession(ServerContext& ctx, CommandRequest req, CommandVersion version,
                 std::unique_ptr<CommandTransport> transport);

  // Calls the backend and starts pumping.
  void Start();
  // Inbound from the client. `consumed` runs once the bytes were written to
  // the process (or dropped).
  void OnStdin(std::string data, std::function<void()> consumed);
  void OnStdinEof();
  void OnResize(std::string_view bytes);
  // The connection is gone: stop, tell the backend (cancel) if the process
  // has not ended.
  void OnTransportClosed();

 private:
  void StartOutput(UniqueFd fd, Channel ch);
  void OutputEnded(Channel ch);
  void OnExit(Result<int> result);
  void MaybeFinish();
  void Finish(const CommandStatus& status);
  void Cleanup();
  CommandStatus StatusFor(const Result<int>& result) const;

  ServerContext& ctx_;
  CommandRequest req_;
  CommandVersion version_;
  std::unique_ptr<CommandTransport> transport_;
  asio::steady_timer drain_timer_;

  bool started_ = false;
  bool finished_ = false;
  bool stdin_eof_ = false;
  std::deque<std::pair<std::string, std::function<void()>>> early_stdin_;
  std::string early_resize_;

  std::shared_ptr<FdWriter> stdin_;
  std::vector<Descriptor> descriptors_;
  std::vector<std::shared_ptr<FdReader>> readers_;
  int outputs_open_ = 0;
  std::function<void(TerminalSize)> resize_;
  std::function<void()> cancel_;
  ResizeDecoder resize_decoder_;

  std::optional<Result<int>> exit_;
  bool drain_expired_ = false;
};

}  // namespace berth::cri::streaming
