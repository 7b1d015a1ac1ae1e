#pragma once
// The server end of one SPDY/3.1 connection after the HTTP upgrade, as
// spdystream (moby/spdystream, which kubelet and client-go use) expects it:
//
//   - The client opens streams (odd ids, ascending) with SYN_STREAM; the
//     upper layer accepts one (SYN_REPLY with no headers) or rejects it
//     (RST_STREAM CANCEL), like apimachinery's spdy connection does.
//   - DATA flows both ways; FLAG_FIN half-closes one direction; RST_STREAM
//     tears a stream down. PINGs from the client are echoed. GOAWAY ends
//     the session: Close() sends GOAWAY, flushes, half-closes TCP and waits
//     (bounded) for the peer to hang up.
//   - Flow control: we grant the SPDY/3 default 64 KiB windows and return
//     credit with WINDOW_UPDATE (stream and, SPDY/3.1, session level) as the
//     upper layer consumes data. spdystream itself never sends SETTINGS or
//     WINDOW_UPDATE and ignores windows, so our sending side honours the
//     peer's windows only once the peer shows it does flow control (it sent
//     SETTINGS or WINDOW_UPDATE); until then TCP back-pressure is the only
//     limit, exactly as between two spdystream ends. Inbound data beyond
//     max_buffered_inbound not yet consumed pauses reading the socket.
//
// Everything runs on one event loop thread; handlers may call back into the
// session.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/cri/streaming/spdy_frame.h"

namespace berth::cri::streaming {

namespace asio = boost::asio;

class SpdySession : public std::enable_shared_from_this<SpdySession> {
 public:
  struct Options {
    std::chrono::milliseconds idle_timeout = std::chrono::hours(4);
    size_t max_buffered_inbound = 4 * 1024 * 1024;
    std::chrono::milliseconds close_linger = std::chrono::seconds(5);
  };
  struct Handlers {
    // A new stream: return true to accept it. Writes issued from inside the
    // handler are sent after the SYN_REPLY.
    std::function<bool(uint32_t id, const spdy::Headers& headers)> on_stream;
    // Data for an accepted stream. Call Consumed(id, data.size()) once used
    // (credit goes back to the peer, reading resumes).
    std::function<void(uint32_t id, std::string data)> on_data;
    std::function<void(uint32_t id)> on_remote_fin;  // the peer will send no more
    std::function<void(uint32_t id)> on_reset;       // RST_STREAM from the peer
    std::function<void()> on_closed;                 // the connection is gone
  };

  SpdySession(asio::ip::tcp::socket socket, std::string already_read, Options options);
  void Start(Handlers handlers);

  // Sends `data` on stream `id`, FLAG_FIN on the last frame when `fin`.
  // `sent` runs once the last byte went to the socket, or when the data was
  // dropped (stream reset, session closed).
  void Write(uint32_t id, std::string data, bool fin, std::function<void()> sent = {});
  void Reset(uint32_t id, uint32_t status = spdy::kCancel);
  void Consumed(uint32_t id, size_t n);
  // True while we may still send on `id` (accepted, not FIN'd, not reset).
  bool CanWrite(uint32_t id) const;

  // GOAWAY, flush, then close gracefully.
  void Close();
  // Closes the socket now.
  void Abort();
  bool closed() const { return closed_; }
  const std::string& peer() const { return peer_; }

 private:
  struct Pending {
    std::string data;
    bool fin = false;
    std::function<void()> sent;
  };
  struct StreamState {
    bool replied = false;
    bool remote_fin = false;
    bool local_fin = false;  // FIN queued (or unidirectional)
    int64_t send_window = spdy::kDefaultInitialWindow;
    size_t consumed_unreported = 0;
    std::deque<Pending> queued;  // before the reply, or waiting for window
  };
  struct OutFrame {
    std::string bytes;
    std::function<void()> sent;
  };

  void ReadMore();
  void OnRead(boost::system::error_code ec, size_t n);
  bool HandleFrame(spdy::Frame& f);  // false: stop processing (closed)
  void OnSynStream(spdy::Frame& f);
  void OnData(spdy::Frame& f);
  void OnRemoteFin(uint32_t id);
  void OnRstStream(uint32_t id);
  void OnSettings(const spdy::Frame& f);
  void OnWindowUpdate(const spdy::Frame& f);
  void ProtocolError(const std::string& why);

  void Enqueue(std::string bytes, std::function<void()> sent = {});
  void WriteMore();
  void FlushStream(uint32_t id);
  void FlushAll();
  void MaybeForget(uint32_t id);
  bool HasQueuedData() const;
  void ResumeReadIfPaused();
  void TouchIdle();
  void FinishClose();
  void Post(std::function<void()> fn);

  asio::ip::tcp::socket socket_;
  std::string peer_;
  Options options_;
  Handlers handlers_;
  spdy::FrameReader reader_;
  spdy::HeaderCompressor compressor_;
  spdy::HeaderDecompressor decompressor_;
  std::string read_buf_;
  std::map<uint32_t, StreamState> streams_;
  uint32_t last_remote_id_ = 0;

  bool flow_control_ = false;
  int64_t peer_initial_window_ = spdy::kDefaultInitialWindow;
  int64_t session_send_window_ = spdy::kDefaultInitialWindow;
  size_t session_consumed_unreported_ = 0;
  size_t inbound_pending_ = 0;

  bool read_in_progress_ = false;
  bool read_paused_ = false;
  std::deque<OutFrame> out_;
  std::vector<OutFrame> inflight_;
  bool writing_ = false;
  bool goaway_sent_ = false;
  bool send_shutdown_ = false;
  bool closed_ = false;
  asio::steady_timer idle_timer_;
  asio::steady_timer linger_timer_;
};

}  // namespace berth::cri::streaming
