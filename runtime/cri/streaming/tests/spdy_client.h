#pragma once
// Test clients: a raw HTTP/1.1 request helper and a minimal SPDY/3.1 client
// that behaves like client-go's spdystream end (opens odd streams, waits for
// nothing, no flow control unless asked to).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/cri/streaming/spdy_frame.h"

namespace berth::cri::streaming::testing {

using namespace std::chrono_literals;

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;      // for non-101 responses: read until the server closed
  std::string leftover;  // 101: bytes after the head
  UniqueFd fd;           // 101: the upgraded connection
  std::vector<std::string> Header(std::string_view name) const;
};

// Sends one request to `url` ("http://host:port/path?query").
Result<HttpResponse> HttpRequest(const std::string& url, const std::string& method,
                                 const std::vector<std::pair<std::string, std::string>>& headers);

class SpdyClient {
 public:
  struct StreamState {
    bool replied = false;
    bool reset = false;
    uint32_t reset_status = 0;
    bool fin = false;
    std::string data;
  };

  // Upgrades `url` with these X-Stream-Protocol-Version values. On a non-101
  // answer returns the response in `refused` and nullptr.
  static Result<std::unique_ptr<SpdyClient>> Connect(const std::string& url,
                                                     const std::vector<std::string>& protocols,
                                                     HttpResponse* response = nullptr);
  ~SpdyClient();

  uint32_t OpenStream(const spdy::Headers& headers, bool fin = false);
  void Send(uint32_t id, const std::string& data, bool fin = false);
  void Fin(uint32_t id) { Send(id, {}, true); }
  void Reset(uint32_t id);
  void SendRaw(const std::string& frame);

  // Waits until `pred(state)` holds for stream `id`; false on timeout.
  bool WaitStream(uint32_t id, const std::function<bool(const StreamState&)>& pred,
                  std::chrono::milliseconds timeout = 10s);
  bool WaitReply(uint32_t id) {
    return WaitStream(id, [](const StreamState& s) { return s.replied || s.reset; });
  }
  bool WaitContains(uint32_t id, const std::string& text, std::chrono::milliseconds t = 10s) {
    return WaitStream(
        id, [&](const StreamState& s) { return s.data.find(text) != std::string::npos; }, t);
  }
  // Waits for FIN (or reset/close) and returns the stream's data.
  std::string ReadAll(uint32_t id, std::chrono::milliseconds timeout = 10s);
  StreamState Stream(uint32_t id);

  // Connection-level observations.
  bool WaitGoAway(std::chrono::milliseconds timeout = 10s);
  bool WaitClosed(std::chrono::milliseconds timeout = 10s);
  std::vector<spdy::Frame> ControlFrames();  // every control frame seen, in order
  // Frames of `type` seen so far.
  std::vector<spdy::Frame> Frames(spdy::FrameType type);
  void Close();

 private:
  SpdyClient(UniqueFd fd, std::string leftover);
  void ReadLoop();

  UniqueFd fd_;
  std::mutex write_mu_;
  spdy::HeaderCompressor compressor_;
  uint32_t next_id_ = 1;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint32_t, StreamState> streams_;
  std::vector<spdy::Frame> control_;
  bool goaway_ = false;
  bool closed_ = false;
  std::string leftover_;
  std::thread reader_;
};

}  // namespace berth::cri::streaming::testing
