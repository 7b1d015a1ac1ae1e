// SPDY connections: remote command (kubelet remotecommand/httpstream.go)
// and port forward (kubelet portforward/httpstream.go).

#include <boost/asio/post.hpp>
#include <map>

#include "common/log.h"
#include "common/strings.h"
#include "runtime/cri/streaming/forward_pump.h"
#include "runtime/cri/streaming/handlers.h"
#include "runtime/cri/streaming/spdy_session.h"

namespace berth::cri::streaming {
namespace {

SpdySession::Options SessionOptions(const Config& c) {
  SpdySession::Options o;
  o.idle_timeout = c.stream_idle_timeout;
  return o;
}

// ---------------------------------------------------------------------------
// Remote command

class SpdyCommandHandler : public std::enable_shared_from_this<SpdyCommandHandler> {
 public:
  SpdyCommandHandler(ServerContext& ctx, std::shared_ptr<SpdySession> spdy, CommandVersion version,
                     CommandRequest req)
      : ctx_(ctx),
        spdy_(std::move(spdy)),
        version_(version),
        req_(std::move(req)),
        creation_timer_(ctx.io) {
    // The error stream always, plus one per requested stdio stream, plus
    // resize for a tty from v3 on.
    expected_ = 1 + req_.stdin + req_.stdout + req_.stderr;
    if (req_.tty && version_ >= CommandVersion::kV3) ++expected_;
  }

  void Start() {
    auto self = shared_from_this();
    SpdySession::Handlers h;
    h.on_stream = [self](uint32_t id, const spdy::Headers& headers) {
      return self->OnStream(id, headers);
    };
    h.on_data = [self](uint32_t id, std::string data) { self->OnData(id, std::move(data)); };
    h.on_remote_fin = [self](uint32_t id) { self->OnRemoteEnd(id); };
    h.on_reset = [self](uint32_t id) { self->OnRemoteEnd(id); };
    h.on_closed = [self] { self->OnClosed(); };
    creation_timer_.expires_after(ctx_.config.stream_creation_timeout);
    creation_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && !self->session_) {
        BLOG(kWarn) << "spdy " << self->spdy_->peer()
                    << ": timed out waiting for client to create streams";
        self->spdy_->Abort();
      }
    });
    spdy_->Start(std::move(h));
  }

 private:
  class Transport : public CommandTransport {
   public:
    explicit Transport(std::shared_ptr<SpdyCommandHandler> h) : h_(std::move(h)) {}
    void Send(Channel ch, std::string data, std::function<void()> sent) override {
      auto it = h_->ids_.find(ch);
      if (it == h_->ids_.end()) {
        asio::post(h_->ctx_.io, std::move(sent));
        return;
      }
      h_->spdy_->Write(it->second, std::move(data), false, std::move(sent));
    }
    void CloseChannel(Channel ch) override {
      auto it = h_->ids_.find(ch);
      if (it != h_->ids_.end() && h_->spdy_->CanWrite(it->second)) {
        h_->spdy_->Write(it->second, {}, true);
      }
    }
    void Close() override {
      for (const auto& [ch, id] : h_->ids_) {
        if (h_->spdy_->CanWrite(id)) h_->spdy_->Write(id, {}, true);
      }
      h_->spdy_->Close();
    }

   private:
    std::shared_ptr<SpdyCommandHandler> h_;
  };

  bool OnStream(uint32_t id, const spdy::Headers& headers) {
    std::string type = spdy::HeaderValue(headers, kStreamTypeHeader).value_or("");
    std::optional<Channel> ch;
    if (type == "error") ch = Channel::kError;
    if (type == "stdin") ch = Channel::kStdin;
    if (type == "stdout") ch = Channel::kStdout;
    if (type == "stderr") ch = Channel::kStderr;
    if (type == "resize" && version_ >= CommandVersion::kV3) ch = Channel::kResize;
    if (!ch) {
      // kubelet accepts the stream but does not count it.
      BLOG(kWarn) << "spdy " << spdy_->peer() << ": unexpected stream type \"" << type << "\"";
      return true;
    }
    ids_[*ch] = id;
    roles_[id] = *ch;
    if (++received_ == expected_ && !session_) {
      creation_timer_.cancel();
      session_ = std::make_shared<CommandSession>(ctx_, req_, version_,
                                                  std::make_unique<Transport>(shared_from_this()));
      // Start once the SYN_REPLY for this stream is queued.
      asio::post(ctx_.io, [s = session_] { s->Start(); });
    }
    return true;
  }

  void OnData(uint32_t id, std::string data) {
    auto it = roles_.find(id);
    size_t n = data.size();
    if (it == roles_.end() || !session_) {
      spdy_->Consumed(id, n);
      return;
    }
    std::weak_ptr<SpdySession> weak = spdy_;
    auto consumed = [weak, id, n] {
      if (auto s = weak.lock()) s->Consumed(id, n);
    };
    if (it->second == Channel::kStdin) {
      session_->OnStdin(std::move(data), consumed);
    } else if (it->second == Channel::kResize) {
      session_->OnResize(data);
      consumed();
    } else {
      consumed();
    }
  }

  void OnRemoteEnd(uint32_t id) {
    auto it = roles_.find(id);
    if (it != roles_.end() && it->second == Channel::kStdin && session_) session_->OnStdinEof();
  }

  void OnClosed() {
    creation_timer_.cancel();
    if (session_) session_->OnTransportClosed();
    session_.reset();
  }

  ServerContext& ctx_;
  std::shared_ptr<SpdySession> spdy_;
  CommandVersion version_;
  CommandRequest req_;
  asio::steady_timer creation_timer_;
  int expected_ = 0;
  int received_ = 0;
  std::map<Channel, uint32_t> ids_;
  std::map<uint32_t, Channel> roles_;
  std::shared_ptr<CommandSession> session_;
};

// ---------------------------------------------------------------------------
// Port forward

class SpdyPortForwardHandler : public std::enable_shared_from_this<SpdyPortForwardHandler> {
 public:
  SpdyPortForwardHandler(ServerContext& ctx, std::shared_ptr<SpdySession> spdy,
                         PortForwardRequest req)
      : ctx_(ctx), spdy_(std::move(spdy)), req_(std::move(req)) {}

  void Start() {
    auto self = shared_from_this();
    SpdySession::Handlers h;
    h.on_stream = [self](uint32_t id, const spdy::Headers& headers) {
      return self->OnStream(id, headers);
    };
    h.on_data = [self](uint32_t id, std::string data) { self->OnData(id, std::move(data)); };
    h.on_remote_fin = [self](uint32_t id) { self->OnRemoteFin(id); };
    h.on_reset = [self](uint32_t id) { self->OnReset(id); };
    h.on_closed = [self] { self->OnClosed(); };
    spdy_->Start(std::move(h));
  }

 private:
  struct Pair {
    std::string request_id;
    uint32_t data_id = 0;
    uint32_t error_id = 0;
    int32_t port = 0;
    std::unique_ptr<asio::steady_timer> timer;
    std::shared_ptr<ForwardPump> pump;
    bool done = false;
  };

  bool OnStream(uint32_t id, const spdy::Headers& headers) {
    // httpStreamReceived: a valid port and stream type, or the stream is
    // rejected.
    auto port_s = spdy::HeaderValue(headers, kPortHeader);
    if (!port_s || port_s->empty()) {
      BLOG(kWarn) << "port forward: \"port\" header is required";
      return false;
    }
    auto port = ParseInt<uint16_t>(*port_s, "port");
    if (!port.ok() || *port < 1) {
      BLOG(kWarn) << "port forward: invalid port \"" << *port_s << "\"";
      return false;
    }
    std::string type = spdy::HeaderValue(headers, kStreamTypeHeader).value_or("");
    if (type != "error" && type != "data") {
      BLOG(kWarn) << "port forward: invalid stream type \"" << type << "\"";
      return false;
    }
    std::string request_id = spdy::HeaderValue(headers, kRequestIdHeader).value_or("");
    if (request_id.empty()) {
      // Old clients send no requestID: their streams come in error/data
      // pairs with consecutive odd ids.
      request_id = std::to_string(type == "error" ? id : id - 2);
    }
    auto [it, created] = pairs_.try_emplace(request_id);
    Pair& p = it->second;
    if (created) {
      p.request_id = request_id;
      p.timer = std::make_unique<asio::steady_timer>(ctx_.io);
      p.timer->expires_after(ctx_.config.stream_creation_timeout);
      p.timer->async_wait([weak = weak_from_this(), request_id](boost::system::error_code ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->PairTimedOut(request_id);
      });
    }
    stream_to_pair_[id] = request_id;
    uint32_t& slot = type == "error" ? p.error_id : p.data_id;
    if (slot != 0) {
      // Written once the duplicate's SYN_REPLY went out.
      std::string msg = "error processing stream for request " + request_id + ": " + type +
                        " stream already assigned";
      BLOG(kWarn) << "port forward: " << msg;
      if (p.error_id != 0) spdy_->Write(p.error_id, msg, false);
      return true;
    }
    slot = id;
    if (type == "data") p.port = *port;
    if (p.data_id != 0 && p.error_id != 0 && !p.pump && !p.done) {
      p.timer->cancel();
      asio::post(ctx_.io, [weak = weak_from_this(), request_id] {
        if (auto self = weak.lock()) self->Forward(request_id);
      });
    }
    return true;
  }

  void PairTimedOut(const std::string& request_id) {
    auto it = pairs_.find(request_id);
    if (it == pairs_.end() || it->second.pump || it->second.done) return;
    std::string msg =
        "(conn=" + spdy_->peer() + ", request=" + request_id + ") timed out waiting for streams";
    BLOG(kWarn) << "port forward: " << msg;
    Pair& p = it->second;
    if (p.error_id != 0) spdy_->Write(p.error_id, msg, true);
    if (p.data_id != 0) spdy_->Reset(p.data_id);
    Forget(request_id);
  }

  void Forward(const std::string& request_id) {
    auto it = pairs_.find(request_id);
    if (it == pairs_.end() || spdy_->closed()) return;
    Pair& p = it->second;
    auto sock = ctx_.backend ? ctx_.backend->PortForward(req_.pod_sandbox_id, p.port)
                             : Result<UniqueFd>(Error(Errc::kInternal, "no backend"));
    if (!sock.ok()) {
      End(request_id, sock.error().str());
      return;
    }
    std::weak_ptr<SpdySession> weak_spdy = spdy_;
    uint32_t data_id = p.data_id;
    ForwardPump::Remote remote;
    remote.send = [weak_spdy, data_id](std::string data, std::function<void()> sent) {
      if (auto s = weak_spdy.lock()) {
        s->Write(data_id, std::move(data), false, std::move(sent));
      }
    };
    remote.send_fin = [weak_spdy, data_id] {
      if (auto s = weak_spdy.lock(); s && s->CanWrite(data_id)) s->Write(data_id, {}, true);
    };
    p.pump = std::make_shared<ForwardPump>(
        ctx_.io, std::move(*sock), std::move(remote),
        [weak = weak_from_this(), request_id](std::string error) {
          if (auto self = weak.lock()) self->End(request_id, error);
        },
        ctx_.config.port_forward_linger);
    p.pump->Start();
  }

  // The forwarded connection is over: report an error, close both streams.
  void End(const std::string& request_id, const std::string& error) {
    auto it = pairs_.find(request_id);
    if (it == pairs_.end() || it->second.done) return;
    Pair& p = it->second;
    p.done = true;
    if (!error.empty()) {
      std::string msg = PortForwardError(p.port, req_.pod_sandbox_id, error);
      BLOG(kWarn) << msg;
      if (spdy_->CanWrite(p.error_id)) spdy_->Write(p.error_id, msg, false);
    }
    if (spdy_->CanWrite(p.data_id)) spdy_->Write(p.data_id, {}, true);
    if (spdy_->CanWrite(p.error_id)) spdy_->Write(p.error_id, {}, true);
    Forget(request_id);
  }

  void Forget(const std::string& request_id) {
    auto it = pairs_.find(request_id);
    if (it == pairs_.end()) return;
    if (it->second.timer) it->second.timer->cancel();
    // The ids stay mapped (to a missing pair) so late frames are dropped.
    pairs_.erase(it);
  }

  Pair* PairOf(uint32_t id) {
    auto s = stream_to_pair_.find(id);
    if (s == stream_to_pair_.end()) return nullptr;
    auto p = pairs_.find(s->second);
    return p == pairs_.end() ? nullptr : &p->second;
  }

  void OnData(uint32_t id, std::string data) {
    Pair* p = PairOf(id);
    size_t n = data.size();
    std::weak_ptr<SpdySession> weak = spdy_;
    auto consumed = [weak, id, n] {
      if (auto s = weak.lock()) s->Consumed(id, n);
    };
    if (p && p->pump && id == p->data_id) {
      p->pump->OnRemoteData(std::move(data), consumed);
    } else {
      consumed();
    }
  }

  void OnRemoteFin(uint32_t id) {
    Pair* p = PairOf(id);
    if (p && p->pump && id == p->data_id) p->pump->OnRemoteFin();
  }

  void OnReset(uint32_t id) {
    Pair* p = PairOf(id);
    if (!p || id != p->data_id) return;
    if (p->pump) {
      p->pump->Abort();  // -> End()
    } else {
      End(p->request_id, {});
    }
  }

  void OnClosed() {
    std::vector<std::shared_ptr<ForwardPump>> pumps;
    for (auto& [id, p] : pairs_) {
      if (p.timer) p.timer->cancel();
      if (p.pump) pumps.push_back(p.pump);
    }
    for (auto& pump : pumps)
      pump->Abort();
    pairs_.clear();
  }

  ServerContext& ctx_;
  std::shared_ptr<SpdySession> spdy_;
  PortForwardRequest req_;
  std::map<std::string, Pair> pairs_;
  std::map<uint32_t, std::string> stream_to_pair_;
};

}  // namespace

std::string PortForwardError(int32_t port, const std::string& sandbox, const std::string& err) {
  return "error forwarding port " + std::to_string(port) + " to pod " + sandbox + ", uid : " + err;
}

std::shared_ptr<SpdySession> NewSession(ServerContext& ctx, asio::ip::tcp::socket socket,
                                        std::string already_read) {
  auto spdy = std::make_shared<SpdySession>(std::move(socket), std::move(already_read),
                                            SessionOptions(ctx.config));
  ctx.connections.Add(spdy, [weak = std::weak_ptr<SpdySession>(spdy)] {
    if (auto s = weak.lock()) s->Abort();
  });
  return spdy;
}

void ServeSpdyCommand(ServerContext& ctx, asio::ip::tcp::socket socket, std::string already_read,
                      CommandVersion version, CommandRequest req) {
  auto spdy = NewSession(ctx, std::move(socket), std::move(already_read));
  std::make_shared<SpdyCommandHandler>(ctx, spdy, version, std::move(req))->Start();
}

void ServeSpdyPortForward(ServerContext& ctx, asio::ip::tcp::socket socket,
                          std::string already_read, PortForwardRequest req) {
  auto spdy = NewSession(ctx, std::move(socket), std::move(already_read));
  std::make_shared<SpdyPortForwardHandler>(ctx, spdy, std::move(req))->Start();
}

}  // namespace berth::cri::streaming
