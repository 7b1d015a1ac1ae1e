#pragma once
// A WebSocket test client (Beast) with its own event loop thread: messages
// are queued as they arrive; sends are posted to the loop.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::cri::streaming::testing {

struct WsMessage {
  bool text = false;
  std::string data;
};

class WsClient {
 public:
  struct Handshake {
    int status = 0;        // 101 when upgraded
    std::string protocol;  // Sec-WebSocket-Protocol chosen by the server
    std::string body;
  };
  // Connects to `url` offering `protocols` (none: no header). On a refused
  // handshake returns nullptr with `handshake` filled.
  static Result<std::unique_ptr<WsClient>> Connect(const std::string& url,
                                                   const std::vector<std::string>& protocols,
                                                   Handshake* handshake = nullptr);
  ~WsClient();

  void Send(std::string data, bool text = false);
  // The next message; nullopt when the connection closed (or timeout).
  std::optional<WsMessage> Read(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void Close();  // sends a close frame

  struct Impl;

 private:
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::cri::streaming::testing
