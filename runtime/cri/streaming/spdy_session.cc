#include "runtime/cri/streaming/spdy_session.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"

namespace berth::cri::streaming {

namespace {
constexpr size_t kReadSize = 64 * 1024;
constexpr size_t kMaxDataFrame = 64 * 1024;  // what we put in one DATA frame
constexpr size_t kWindowUpdateThreshold = spdy::kDefaultInitialWindow / 2;
constexpr size_t kMaxWriteBatch = 256 * 1024;
}  // namespace

SpdySession::SpdySession(asio::ip::tcp::socket socket, std::string already_read, Options options)
    : socket_(std::move(socket)),
      options_(options),
      idle_timer_(socket_.get_executor()),
      linger_timer_(socket_.get_executor()) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  reader_.Feed(already_read);
}

void SpdySession::Start(Handlers handlers) {
  handlers_ = std::move(handlers);
  TouchIdle();
  // Frames that arrived together with the upgrade request.
  read_in_progress_ = true;
  OnRead({}, 0);
}

void SpdySession::Post(std::function<void()> fn) {
  if (fn) asio::post(socket_.get_executor(), std::move(fn));
}

void SpdySession::TouchIdle() {
  if (closed_ || options_.idle_timeout.count() <= 0) return;
  idle_timer_.expires_after(options_.idle_timeout);
  idle_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) {
      BLOG(kInfo) << "spdy session " << self->peer_ << ": idle timeout";
      self->Abort();
    }
  });
}

// ---------------------------------------------------------------------------
// Reading

void SpdySession::ReadMore() {
  if (closed_ || read_in_progress_) return;
  read_in_progress_ = true;
  read_buf_.resize(kReadSize);
  socket_.async_read_some(
      asio::buffer(read_buf_),
      [self = shared_from_this()](boost::system::error_code ec, size_t n) { self->OnRead(ec, n); });
}

void SpdySession::OnRead(boost::system::error_code ec, size_t n) {
  if (closed_) return;
  if (ec) {
    read_in_progress_ = false;
    Abort();  // peer hung up (after our GOAWAY: the clean end), or failed
    return;
  }
  if (n > 0) {
    reader_.Feed(std::string_view(read_buf_.data(), n));
    TouchIdle();
  }
  while (!closed_) {
    auto next = reader_.Next(decompressor_);
    if (!next.ok()) {
      ProtocolError(next.error().str());
      return;
    }
    if (!next->has_value()) break;
    if (!HandleFrame(**next)) return;
  }
  read_in_progress_ = false;
  if (closed_) return;
  if (inbound_pending_ > options_.max_buffered_inbound) {
    read_paused_ = true;
    return;
  }
  ReadMore();
}

void SpdySession::ResumeReadIfPaused() {
  if (!read_paused_ || read_in_progress_ || closed_) return;
  if (inbound_pending_ > options_.max_buffered_inbound / 2) return;
  read_paused_ = false;
  ReadMore();
}

bool SpdySession::HandleFrame(spdy::Frame& f) {
  using spdy::FrameType;
  if (f.type != FrameType::kData && f.version != spdy::kVersion) {
    ProtocolError("unsupported SPDY version " + std::to_string(f.version));
    return false;
  }
  switch (f.type) {
    case FrameType::kData:
      OnData(f);
      break;
    case FrameType::kSynStream:
      OnSynStream(f);
      break;
    case FrameType::kRstStream:
      OnRstStream(f.stream_id);
      break;
    case FrameType::kSettings:
      OnSettings(f);
      break;
    case FrameType::kPing:
      // Client pings are odd; ours would be even (we send none).
      if (f.ping_id & 1) Enqueue(spdy::EncodePing(f.ping_id));
      break;
    case FrameType::kGoAway:
      // The client is done opening streams; existing ones go on.
      break;
    case FrameType::kHeaders:
      if (f.fin()) OnRemoteFin(f.stream_id);
      break;
    case FrameType::kWindowUpdate:
      OnWindowUpdate(f);
      break;
    case FrameType::kSynReply:  // we open no streams
    default:
      break;  // unknown control frames are ignored (draft 3, 2.2.1)
  }
  return !closed_;
}

void SpdySession::OnSynStream(spdy::Frame& f) {
  uint32_t id = f.stream_id;
  if (goaway_sent_) {
    Enqueue(spdy::EncodeRstStream(id, spdy::kRefusedStream));
    return;
  }
  // Client streams are odd and ascending (spdystream's validateStreamId).
  if ((id & 1) == 0 || id <= last_remote_id_) {
    Enqueue(spdy::EncodeRstStream(id, spdy::kProtocolError));
    return;
  }
  last_remote_id_ = id;
  StreamState& s = streams_[id];
  s.send_window = peer_initial_window_;
  s.remote_fin = f.fin();
  s.local_fin = (f.flags & spdy::kFlagUnidirectional) != 0;
  bool accept = handlers_.on_stream && handlers_.on_stream(id, f.headers);
  if (closed_) return;
  auto it = streams_.find(id);
  if (it == streams_.end()) return;  // reset from inside the handler
  if (!accept) {
    for (auto& p : it->second.queued)
      Post(std::move(p.sent));
    streams_.erase(it);
    Enqueue(spdy::EncodeRstStream(id, spdy::kCancel));
    return;
  }
  it->second.replied = true;
  Enqueue(spdy::EncodeSynReply(compressor_, id, 0, {}));
  FlushStream(id);
  if (f.fin()) {
    if (handlers_.on_remote_fin) handlers_.on_remote_fin(id);
    MaybeForget(id);
  }
}

void SpdySession::OnData(spdy::Frame& f) {
  auto it = streams_.find(f.stream_id);
  size_t len = f.data.size();
  if (it == streams_.end() || it->second.remote_fin || !it->second.replied) {
    // A stream we no longer know (reset, or fully closed): drop, but give
    // the session window back.
    inbound_pending_ += len;
    Consumed(0, len);
    return;
  }
  if (len > 0) {
    inbound_pending_ += len;
    if (handlers_.on_data) {
      handlers_.on_data(f.stream_id, std::move(f.data));
    } else {
      Consumed(f.stream_id, len);
    }
  }
  if (f.fin()) OnRemoteFin(f.stream_id);
}

void SpdySession::OnRemoteFin(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.remote_fin) return;
  it->second.remote_fin = true;
  if (handlers_.on_remote_fin) handlers_.on_remote_fin(id);
  MaybeForget(id);
}

void SpdySession::OnRstStream(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  for (auto& p : it->second.queued)
    Post(std::move(p.sent));
  streams_.erase(it);
  if (handlers_.on_reset) handlers_.on_reset(id);
  WriteMore();  // a pending close may have waited for this stream's data
}

bool SpdySession::HasQueuedData() const {
  for (const auto& [id, s] : streams_) {
    if (!s.queued.empty()) return true;
  }
  return false;
}

void SpdySession::OnSettings(const spdy::Frame& f) {
  flow_control_ = true;
  for (const auto& s : f.settings) {
    if (s.id != spdy::kSettingsInitialWindowSize) continue;
    int64_t delta = static_cast<int64_t>(s.value) - peer_initial_window_;
    peer_initial_window_ = s.value;
    for (auto& [id, st] : streams_)
      st.send_window += delta;
  }
  FlushAll();
}

void SpdySession::OnWindowUpdate(const spdy::Frame& f) {
  flow_control_ = true;
  if (f.stream_id == 0) {
    session_send_window_ += f.delta;
    FlushAll();
    return;
  }
  auto it = streams_.find(f.stream_id);
  if (it == streams_.end()) return;  // may arrive after we finished the stream
  it->second.send_window += f.delta;
  FlushStream(f.stream_id);
}

void SpdySession::ProtocolError(const std::string& why) {
  BLOG(kWarn) << "spdy session " << peer_ << ": " << why;
  if (!goaway_sent_) {
    goaway_sent_ = true;
    Enqueue(spdy::EncodeGoAway(last_remote_id_, spdy::kGoAwayProtocolError));
  }
  // Give the GOAWAY a moment to leave, then drop the connection.
  Enqueue({}, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->Abort();
  });
}

void SpdySession::Consumed(uint32_t id, size_t n) {
  if (closed_ || n == 0) return;
  inbound_pending_ = n > inbound_pending_ ? 0 : inbound_pending_ - n;
  session_consumed_unreported_ += n;
  if (session_consumed_unreported_ >= kWindowUpdateThreshold) {
    Enqueue(spdy::EncodeWindowUpdate(0, static_cast<uint32_t>(session_consumed_unreported_)));
    session_consumed_unreported_ = 0;
  }
  if (id != 0) {
    auto it = streams_.find(id);
    if (it != streams_.end() && !it->second.remote_fin) {
      it->second.consumed_unreported += n;
      if (it->second.consumed_unreported >= kWindowUpdateThreshold) {
        Enqueue(
            spdy::EncodeWindowUpdate(id, static_cast<uint32_t>(it->second.consumed_unreported)));
        it->second.consumed_unreported = 0;
      }
    }
  }
  ResumeReadIfPaused();
}

// ---------------------------------------------------------------------------
// Writing

bool SpdySession::CanWrite(uint32_t id) const {
  auto it = streams_.find(id);
  return !closed_ && it != streams_.end() && !it->second.local_fin;
}

void SpdySession::Write(uint32_t id, std::string data, bool fin, std::function<void()> sent) {
  auto it = streams_.find(id);
  if (closed_ || it == streams_.end() || it->second.local_fin) {
    Post(std::move(sent));
    return;
  }
  if (fin) it->second.local_fin = true;
  it->second.queued.push_back({std::move(data), fin, std::move(sent)});
  FlushStream(id);
}

void SpdySession::FlushStream(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  StreamState& s = it->second;
  if (!s.replied) return;
  while (!s.queued.empty()) {
    Pending& p = s.queued.front();
    size_t n = std::min(p.data.size(), kMaxDataFrame);
    if (flow_control_ && n > 0) {
      int64_t window = std::min(s.send_window, session_send_window_);
      if (window <= 0) break;
      n = std::min(n, static_cast<size_t>(window));
      s.send_window -= static_cast<int64_t>(n);
      session_send_window_ -= static_cast<int64_t>(n);
    }
    bool last = n == p.data.size();
    uint8_t flags = last && p.fin ? spdy::kFlagFin : 0;
    Enqueue(spdy::EncodeData(id, flags, std::string_view(p.data).substr(0, n)),
            last ? std::move(p.sent) : std::function<void()>());
    if (!last) {
      p.data.erase(0, n);
      continue;
    }
    s.queued.pop_front();
  }
  MaybeForget(id);
}

void SpdySession::FlushAll() {
  std::vector<uint32_t> ids;
  for (const auto& [id, s] : streams_) {
    if (!s.queued.empty()) ids.push_back(id);
  }
  for (uint32_t id : ids)
    FlushStream(id);
}

void SpdySession::MaybeForget(uint32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  const StreamState& s = it->second;
  if (s.remote_fin && s.local_fin && s.queued.empty()) streams_.erase(it);
}

void SpdySession::Reset(uint32_t id, uint32_t status) {
  auto it = streams_.find(id);
  if (closed_ || it == streams_.end()) return;
  for (auto& p : it->second.queued)
    Post(std::move(p.sent));
  streams_.erase(it);
  Enqueue(spdy::EncodeRstStream(id, status));
}

void SpdySession::Enqueue(std::string bytes, std::function<void()> sent) {
  if (closed_) {
    Post(std::move(sent));
    return;
  }
  out_.push_back({std::move(bytes), std::move(sent)});
  WriteMore();
}

void SpdySession::WriteMore() {
  if (writing_ || closed_) return;
  if (out_.empty()) {
    // Closing waits for data still held back by the peer's windows.
    if (goaway_sent_ && !send_shutdown_ && !HasQueuedData()) FinishClose();
    return;
  }
  size_t total = 0;
  std::vector<asio::const_buffer> bufs;
  while (!out_.empty() && (inflight_.empty() || total < kMaxWriteBatch)) {
    total += out_.front().bytes.size();
    inflight_.push_back(std::move(out_.front()));
    out_.pop_front();
  }
  for (const auto& f : inflight_)
    bufs.push_back(asio::buffer(f.bytes));
  writing_ = true;
  asio::async_write(socket_, bufs,
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      self->writing_ = false;
                      auto done = std::move(self->inflight_);
                      self->inflight_.clear();
                      if (ec) {
                        for (auto& f : done)
                          self->Post(std::move(f.sent));
                        self->Abort();
                        return;
                      }
                      self->TouchIdle();
                      for (auto& f : done) {
                        if (f.sent) f.sent();
                      }
                      self->WriteMore();
                    });
}

// ---------------------------------------------------------------------------
// Closing

void SpdySession::Close() {
  if (closed_ || goaway_sent_) return;
  goaway_sent_ = true;
  Enqueue(spdy::EncodeGoAway(last_remote_id_, spdy::kGoAwayOk));
}

void SpdySession::FinishClose() {
  // Everything we had to say is out: half-close and let the peer hang up,
  // so that nothing it sent meanwhile turns our close into a TCP reset that
  // could destroy data still in flight to it.
  send_shutdown_ = true;
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  linger_timer_.expires_after(options_.close_linger);
  linger_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->Abort();
  });
  if (read_paused_) {
    read_paused_ = false;
    ReadMore();
  }
}

void SpdySession::Abort() {
  if (closed_) return;
  closed_ = true;
  idle_timer_.cancel();
  linger_timer_.cancel();
  boost::system::error_code ec;
  socket_.close(ec);
  for (auto& f : out_)
    Post(std::move(f.sent));
  out_.clear();
  for (auto& [id, s] : streams_) {
    for (auto& p : s.queued)
      Post(std::move(p.sent));
  }
  streams_.clear();
  auto on_closed = std::move(handlers_.on_closed);
  handlers_ = {};
  if (on_closed) on_closed();
}

}  // namespace berth::cri::streaming
