// WebSocket connections: remote command (kubelet remotecommand/websocket.go
// with the v5 CLOSE signal of apimachinery wsstream) and port forward
// (kubelet portforward/websocket.go).
//
// Frames: binary [channel byte][data]; with the base64 protocols text
// ['0'+channel][base64(data)].

#include <boost/asio/post.hpp>
#include <boost/beast/core/detail/base64.hpp>

#include "common/log.h"
#include "runtime/cri/streaming/forward_pump.h"
#include "runtime/cri/streaming/handlers.h"

namespace berth::cri::streaming {
namespace {

namespace b64 = boost::beast::detail::base64;

std::string Frame(bool base64, uint8_t channel, std::string_view data) {
  std::string out;
  if (base64) {
    out += static_cast<char>('0' + channel);
    std::string enc(b64::encoded_size(data.size()), '\0');
    enc.resize(b64::encode(enc.data(), data.data(), data.size()));
    out += enc;
  } else {
    out += static_cast<char>(channel);
    out.append(data);
  }
  return out;
}

// Splits a message into channel and payload; nullopt for an undecodable one.
std::optional<std::pair<uint8_t, std::string>> Unframe(bool base64, const std::string& msg) {
  if (msg.empty()) return std::nullopt;
  uint8_t ch = static_cast<uint8_t>(msg[0]);
  if (!base64) return std::make_pair(ch, msg.substr(1));
  ch = static_cast<uint8_t>(ch - '0');
  std::string out(b64::decoded_size(msg.size() - 1), '\0');
  auto [written, read] = b64::decode(out.data(), msg.data() + 1, msg.size() - 1);
  if (read != msg.size() - 1) return std::nullopt;
  out.resize(written);
  return std::make_pair(ch, std::move(out));
}

// ---------------------------------------------------------------------------
// Remote command

class WsCommandHandler : public std::enable_shared_from_this<WsCommandHandler> {
 public:
  WsCommandHandler(ServerContext& ctx, std::shared_ptr<WsConnection> ws, WsProtocol protocol,
                   CommandRequest req)
      : ctx_(ctx), ws_(std::move(ws)), protocol_(std::move(protocol)), req_(std::move(req)) {}

  void Start() {
    session_ = std::make_shared<CommandSession>(ctx_, req_, protocol_.version,
                                                std::make_unique<Transport>(shared_from_this()));
    // Tell the client the connection is up: an empty message on the
    // lowest writable channel.
    Channel first = req_.stdout   ? Channel::kStdout
                    : req_.stderr ? Channel::kStderr
                                  : Channel::kError;
    ws_->Send(Frame(protocol_.base64, static_cast<uint8_t>(first), {}));
    auto self = shared_from_this();
    ws_->Start([self](std::string msg, std::function<void()> next) { self->OnMessage(msg, next); },
               [self] { self->OnClosed(); });
    asio::post(ctx_.io, [s = session_] { s->Start(); });
  }

 private:
  class Transport : public CommandTransport {
   public:
    explicit Transport(std::shared_ptr<WsCommandHandler> h) : h_(std::move(h)) {}
    void Send(Channel ch, std::string data, std::function<void()> sent) override {
      bool writable = ch == Channel::kError || (ch == Channel::kStdout && h_->req_.stdout) ||
                      (ch == Channel::kStderr && h_->req_.stderr);
      if (!writable) {
        asio::post(h_->ctx_.io, std::move(sent));
        return;
      }
      h_->ws_->Send(Frame(h_->protocol_.base64, static_cast<uint8_t>(ch), data), std::move(sent));
    }
    void CloseChannel(Channel) override {}
    void Close() override { h_->ws_->Close(); }

   private:
    std::shared_ptr<WsCommandHandler> h_;
  };

  void OnMessage(const std::string& msg, const std::function<void()>& next) {
    if (msg.empty() || !session_) {
      next();
      return;
    }
    if (protocol_.version >= CommandVersion::kV5 &&
        static_cast<uint8_t>(msg[0]) == kWsCloseSignal) {
      if (msg.size() != 2) {
        BLOG(kWarn) << "websocket: close signal must carry one channel byte";
        ws_->Abort();
        return;
      }
      if (static_cast<uint8_t>(msg[1]) == static_cast<uint8_t>(Channel::kStdin)) {
        session_->OnStdinEof();
      }
      next();
      return;
    }
    auto frame = Unframe(protocol_.base64, msg);
    if (!frame) {
      BLOG(kWarn) << "websocket: undecodable message dropped";
      next();
      return;
    }
    auto& [ch, data] = *frame;
    if (ch == static_cast<uint8_t>(Channel::kStdin) && req_.stdin) {
      size_t n = data.size();
      backlog_ += n;
      std::weak_ptr<WsCommandHandler> weak = weak_from_this();
      session_->OnStdin(std::move(data), [weak, n] {
        if (auto self = weak.lock()) self->Drained(n);
      });
      if (backlog_ > kMaxBacklog) {
        paused_next_ = next;
        return;
      }
    } else if (ch == static_cast<uint8_t>(Channel::kResize)) {
      session_->OnResize(data);
    }
    next();
  }

  void Drained(size_t n) {
    backlog_ -= std::min(n, backlog_);
    if (paused_next_ && backlog_ <= kMaxBacklog / 2) std::exchange(paused_next_, nullptr)();
  }

  void OnClosed() {
    if (session_) session_->OnTransportClosed();
    session_.reset();
    paused_next_ = nullptr;
  }

  static constexpr size_t kMaxBacklog = 4 * 1024 * 1024;
  ServerContext& ctx_;
  std::shared_ptr<WsConnection> ws_;
  WsProtocol protocol_;
  CommandRequest req_;
  std::shared_ptr<CommandSession> session_;
  size_t backlog_ = 0;
  std::function<void()> paused_next_;
};

// ---------------------------------------------------------------------------
// Port forward: per port i, data channel 2i and error channel 2i+1; the
// first message on each carries the port (uint16 little-endian).

class WsPortForwardHandler : public std::enable_shared_from_this<WsPortForwardHandler> {
 public:
  WsPortForwardHandler(ServerContext& ctx, std::shared_ptr<WsConnection> ws, WsProtocol protocol,
                       PortForwardRequest req, std::vector<int32_t> ports)
      : ctx_(ctx),
        ws_(std::move(ws)),
        protocol_(std::move(protocol)),
        req_(std::move(req)),
        ports_(std::move(ports)),
        pumps_(ports_.size()),
        done_(ports_.size(), false) {}

  void Start() {
    for (size_t i = 0; i < ports_.size(); ++i) {
      std::string port_bytes{static_cast<char>(ports_[i] & 0xff),
                             static_cast<char>((ports_[i] >> 8) & 0xff)};
      ws_->Send(Frame(protocol_.base64, static_cast<uint8_t>(2 * i), port_bytes));
      ws_->Send(Frame(protocol_.base64, static_cast<uint8_t>(2 * i + 1), port_bytes));
    }
    auto self = shared_from_this();
    ws_->Start([self](std::string msg, std::function<void()> next) { self->OnMessage(msg, next); },
               [self] { self->OnClosed(); });
    asio::post(ctx_.io, [self] {
      for (size_t i = 0; i < self->ports_.size(); ++i)
        self->Forward(i);
      self->MaybeClose();
    });
  }

 private:
  void Forward(size_t i) {
    if (ws_->closed()) return;
    auto sock = ctx_.backend ? ctx_.backend->PortForward(req_.pod_sandbox_id, ports_[i])
                             : Result<UniqueFd>(Error(Errc::kInternal, "no backend"));
    if (!sock.ok()) {
      Done(i, sock.error().str());
      return;
    }
    std::weak_ptr<WsPortForwardHandler> weak = weak_from_this();
    ForwardPump::Remote remote;
    remote.send = [weak, i](std::string data, std::function<void()> sent) {
      auto self = weak.lock();
      if (!self) return;
      self->ws_->Send(Frame(self->protocol_.base64, static_cast<uint8_t>(2 * i), data),
                      std::move(sent));
    };
    pumps_[i] = std::make_shared<ForwardPump>(
        ctx_.io, std::move(*sock), std::move(remote),
        [weak, i](std::string error) {
          if (auto self = weak.lock()) self->Done(i, error);
        },
        ctx_.config.port_forward_linger);
    pumps_[i]->Start();
  }

  void Done(size_t i, const std::string& error) {
    if (done_[i]) return;
    done_[i] = true;
    if (!error.empty()) {
      std::string msg = PortForwardError(ports_[i], req_.pod_sandbox_id, error);
      BLOG(kWarn) << msg;
      ws_->Send(Frame(protocol_.base64, static_cast<uint8_t>(2 * i + 1), msg));
    }
    MaybeClose();
  }

  void MaybeClose() {
    for (bool d : done_) {
      if (!d) return;
    }
    ws_->Close();
  }

  void OnMessage(const std::string& msg, const std::function<void()>& next) {
    auto frame = Unframe(protocol_.base64, msg);
    if (!frame || frame->first % 2 != 0 || frame->first / 2 >= pumps_.size() ||
        !pumps_[frame->first / 2]) {
      next();
      return;
    }
    size_t i = frame->first / 2;
    size_t n = frame->second.size();
    backlog_ += n;
    std::weak_ptr<WsPortForwardHandler> weak = weak_from_this();
    pumps_[i]->OnRemoteData(std::move(frame->second), [weak, n] {
      if (auto self = weak.lock()) self->Drained(n);
    });
    if (backlog_ > kMaxBacklog) {
      paused_next_ = next;
      return;
    }
    next();
  }

  void Drained(size_t n) {
    backlog_ -= std::min(n, backlog_);
    if (paused_next_ && backlog_ <= kMaxBacklog / 2) std::exchange(paused_next_, nullptr)();
  }

  void OnClosed() {
    auto pumps = pumps_;
    for (auto& p : pumps) {
      if (p) p->Abort();
    }
    paused_next_ = nullptr;
  }

  static constexpr size_t kMaxBacklog = 4 * 1024 * 1024;
  ServerContext& ctx_;
  std::shared_ptr<WsConnection> ws_;
  WsProtocol protocol_;
  PortForwardRequest req_;
  std::vector<int32_t> ports_;
  std::vector<std::shared_ptr<ForwardPump>> pumps_;
  std::vector<bool> done_;
  size_t backlog_ = 0;
  std::function<void()> paused_next_;
};

std::shared_ptr<WsConnection> NewConnection(ServerContext& ctx, WsConnection::Ws ws, bool base64) {
  auto conn = std::make_shared<WsConnection>(std::move(ws), base64);
  ctx.connections.Add(conn, [weak = std::weak_ptr<WsConnection>(conn)] {
    if (auto c = weak.lock()) c->Abort();
  });
  return conn;
}

}  // namespace

void ServeWsCommand(ServerContext& ctx, WsConnection::Ws ws, const WsProtocol& protocol,
                    CommandRequest req) {
  auto conn = NewConnection(ctx, std::move(ws), protocol.base64);
  std::make_shared<WsCommandHandler>(ctx, conn, protocol, std::move(req))->Start();
}

void ServeWsPortForward(ServerContext& ctx, WsConnection::Ws ws, const WsProtocol& protocol,
                        PortForwardRequest req, std::vector<int32_t> ports) {
  auto conn = NewConnection(ctx, std::move(ws), protocol.base64);
  std::make_shared<WsPortForwardHandler>(ctx, conn, protocol, std::move(req), std::move(ports))
      ->Start();
}

}  // namespace berth::cri::streaming
