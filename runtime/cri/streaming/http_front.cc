// The HTTP/1.1 side of the streaming server: one request per connection,
// routed to /exec/{token}, /attach/{token} or /portforward/{token} (GET or
// POST, under the base URL's directory), the token consumed, then the
// protocol negotiated and the connection upgraded to SPDY/3.1 or WebSocket.
// Answers as kubelet's server does: 404 for an unknown, used or expired
// token; 403 when no subprotocol matches (SPDY: with
// X-Accepted-Stream-Protocol-Versions); 400 without upgrade headers.

#include "runtime/cri/streaming/http_front.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>

#include "common/log.h"
#include "common/strings.h"
#include "runtime/cri/streaming/handlers.h"

namespace berth::cri::streaming {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;

bool ContainsToken(std::string_view header, std::string_view token) {
  std::string h(header);
  std::string t(token);
  for (auto& c : h)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : t)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h.find(t) != std::string::npos;
}

std::vector<std::string> HeaderValues(const Request& req, std::string_view name) {
  std::vector<std::string> out;
  auto range = req.equal_range(name);
  for (auto it = range.first; it != range.second; ++it)
    out.emplace_back(it->value());
  return out;
}

// Go's fmt %v of a []string: "[a b c]".
std::string GoList(const std::vector<std::string>& v) {
  return "[" + Join(v, " ") + "]";
}

bool IsWebSocketRequest(const Request& req) {
  std::string upgrade(req[http::field::upgrade]);
  for (auto& c : upgrade)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return upgrade == "websocket" && ContainsToken(req[http::field::connection], "upgrade");
}

// The `port` query parameters of a WebSocket port-forward request
// (NewV4Options): repeated and/or comma-separated.
Result<std::vector<int32_t>> QueryPorts(std::string_view target) {
  std::vector<int32_t> ports;
  auto q = target.find('?');
  if (q == std::string_view::npos) return ports;
  for (const auto& kv : Split(target.substr(q + 1), '&')) {
    auto eq = kv.find('=');
    if (kv.substr(0, eq) != "port") continue;
    std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (value.empty())
      return Error(Errc::kInvalidArgument, "query parameter \"port\" cannot be empty");
    for (const auto& p : Split(value, ',')) {
      auto port = ParseInt<uint16_t>(p, "port");
      if (!port.ok()) {
        return Error(Errc::kInvalidArgument, "unable to parse \"" + value + "\" as a port");
      }
      if (*port < 1) return Error(Errc::kInvalidArgument, "port \"" + value + "\" must be > 0");
      ports.push_back(*port);
    }
  }
  return ports;
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(ServerContext& ctx, RequestCache& cache, std::string prefix, tcp::socket socket)
      : ctx_(ctx), cache_(cache), prefix_(std::move(prefix)), stream_(std::move(socket)) {}

  void Start() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buf_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) {
                         beast::error_code ignored;
                         self->stream_.socket().close(ignored);
                         return;
                       }
                       self->req_ = self->parser_->release();
                       self->Route();
                     });
  }

 private:
  void Reply(http::status status, std::string body,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req_.version());
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->set("X-Content-Type-Options", "nosniff");
    for (auto& [k, v] : headers)
      res->insert(k, v);
    res->keep_alive(false);
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      self->stream_.socket().close(ec);
    });
  }

  void Route() {
    std::string_view target = req_.target();
    std::string_view path = target.substr(0, target.find('?'));
    if (!prefix_.empty()) {
      if (path.substr(0, prefix_.size()) != prefix_) return NotFound();
      path.remove_prefix(prefix_.size());
    }
    std::string_view kind;
    for (std::string_view k : {"exec", "attach", "portforward"}) {
      std::string p = "/" + std::string(k) + "/";
      if (path.substr(0, p.size()) == p) {
        kind = k;
        path.remove_prefix(p.size());
        break;
      }
    }
    if (kind.empty() || path.empty() || path.find('/') != std::string_view::npos) {
      return Reply(http::status::not_found, "404 page not found\n");
    }
    if (req_.method() != http::verb::get && req_.method() != http::verb::post) {
      return Reply(http::status::method_not_allowed, "405: Method Not Allowed");
    }
    auto cached = cache_.Consume(std::string(path));
    if (!cached) return NotFound();
    if (kind == "exec" && std::holds_alternative<ExecRequest>(*cached)) {
      const auto& r = std::get<ExecRequest>(*cached);
      return ServeCommand(
          {CommandRequest::Kind::kExec, r.container_id, r.cmd, r.stdin, r.stdout, r.stderr, r.tty});
    }
    if (kind == "attach" && std::holds_alternative<AttachRequest>(*cached)) {
      const auto& r = std::get<AttachRequest>(*cached);
      return ServeCommand(
          {CommandRequest::Kind::kAttach, r.container_id, {}, r.stdin, r.stdout, r.stderr, r.tty});
    }
    if (kind == "portforward" && std::holds_alternative<PortForwardRequest>(*cached)) {
      return ServePortForward(std::get<PortForwardRequest>(*cached));
    }
    NotFound();
  }

  void NotFound() { Reply(http::status::not_found, "404 page not found\n"); }

  void ServeCommand(CommandRequest req) {
    if (IsWebSocketRequest(req_)) {
      auto protocol = PickWs(WsCommandProtocols());
      if (!protocol) return;
      return AcceptWs(*protocol, [req = std::move(req), protocol = *protocol](
                                     ServerContext& ctx, WsConnection::Ws ws) mutable {
        ServeWsCommand(ctx, std::move(ws), protocol, std::move(req));
      });
    }
    auto protocol = NegotiateSpdy(SpdyCommandProtocols());
    if (!protocol) return;
    CommandVersion version = CommandVersionOf(*protocol).value_or(CommandVersion::kV1);
    UpgradeSpdy(*protocol, [req = std::move(req), version](ServerContext& ctx, tcp::socket s,
                                                           std::string rest) mutable {
      ServeSpdyCommand(ctx, std::move(s), std::move(rest), version, std::move(req));
    });
  }

  void ServePortForward(PortForwardRequest req) {
    if (IsWebSocketRequest(req_)) {
      auto protocol = PickWs(WsPortForwardProtocols());
      if (!protocol) return;
      std::vector<int32_t> ports = req.port;
      if (ports.empty()) {
        auto q = QueryPorts(req_.target());
        if (!q.ok()) return Reply(http::status::bad_request, q.error().message());
        ports = std::move(*q);
        if (ports.empty()) {
          return Reply(http::status::bad_request, "query parameter \"port\" is required");
        }
      }
      return AcceptWs(
          *protocol, [req = std::move(req), protocol = *protocol, ports = std::move(ports)](
                         ServerContext& ctx, WsConnection::Ws ws) mutable {
            ServeWsPortForward(ctx, std::move(ws), protocol, std::move(req), std::move(ports));
          });
    }
    auto protocol = NegotiateSpdy(SpdyPortForwardProtocols());
    if (!protocol) return;
    UpgradeSpdy(*protocol, [req = std::move(req)](ServerContext& ctx, tcp::socket s,
                                                  std::string rest) mutable {
      ServeSpdyPortForward(ctx, std::move(s), std::move(rest), std::move(req));
    });
  }

  // --- WebSocket ---

  // The first protocol the client lists that we serve; replies 403 (as
  // golang.org/x/net/websocket does for a refused handshake) if none.
  std::optional<WsProtocol> PickWs(const std::vector<WsProtocol>& supported) {
    auto client = SplitProtocolList(HeaderValues(req_, "Sec-WebSocket-Protocol"));
    if (client.empty()) client.emplace_back();
    for (const auto& c : client) {
      for (const auto& s : supported) {
        if (s.name == c) return s;
      }
    }
    Reply(http::status::forbidden, {});
    return std::nullopt;
  }

  template <class Then>
  void AcceptWs(const WsProtocol& protocol, Then then) {
    stream_.expires_never();
    auto ws = std::make_shared<WsConnection::Ws>(std::move(stream_));
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(30);
    t.idle_timeout = ctx_.config.stream_idle_timeout;
    t.keep_alive_pings = false;
    ws->set_option(t);
    std::string name = protocol.name;
    ws->set_option(websocket::stream_base::decorator([name](websocket::response_type& res) {
      if (!name.empty()) res.set(http::field::sec_websocket_protocol, name);
    }));
    // Beast answers a malformed handshake itself (400 / 426).
    ws->async_accept(req_, [self = shared_from_this(), ws,
                            then = std::move(then)](beast::error_code ec) mutable {
      if (ec) {
        BLOG(kInfo) << "websocket handshake: " << ec.message();
        return;
      }
      then(self->ctx_, std::move(*ws));
    });
  }

  // --- SPDY ---

  // httpstream.Handshake: the first client protocol the server supports.
  std::optional<std::string> NegotiateSpdy(const std::vector<std::string>& supported) {
    auto values = HeaderValues(req_, kHeaderProtocolVersion);
    auto client = SplitProtocolList(values);
    if (client.empty()) {
      // kubelet answers an empty 200 here; a 400 says what is wrong.
      Reply(http::status::bad_request,
            "unable to upgrade: " + std::string(kHeaderProtocolVersion) + " is required");
      return std::nullopt;
    }
    auto chosen = Negotiate(values, supported);
    if (!chosen) {
      std::vector<std::pair<std::string, std::string>> headers;
      for (const auto& s : supported) {
        headers.emplace_back(std::string(kHeaderAcceptedProtocolVersions), s);
      }
      Reply(http::status::forbidden,
            "unable to upgrade: unable to negotiate protocol: client supports " + GoList(client) +
                ", server accepts " + GoList(supported) + "\n",
            std::move(headers));
      return std::nullopt;
    }
    return chosen;
  }

  template <class Then>
  void UpgradeSpdy(const std::string& protocol, Then then) {
    if (!ContainsToken(req_[http::field::connection], "upgrade") ||
        !ContainsToken(req_[http::field::upgrade], "spdy/3.1")) {
      return Reply(http::status::bad_request,
                   "unable to upgrade: missing upgrade headers in request: Connection=\"" +
                       std::string(req_[http::field::connection]) + "\" Upgrade=\"" +
                       std::string(req_[http::field::upgrade]) + "\"\n");
    }
    auto head = std::make_shared<std::string>(
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Connection: Upgrade\r\n"
        "Upgrade: SPDY/3.1\r\n"
        "X-Stream-Protocol-Version: " +
        protocol + "\r\n\r\n");
    stream_.expires_never();
    asio::async_write(stream_.socket(), asio::buffer(*head),
                      [self = shared_from_this(), head, then = std::move(then)](
                          boost::system::error_code ec, size_t) mutable {
                        if (ec) {
                          beast::error_code ignored;
                          self->stream_.socket().close(ignored);
                          return;
                        }
                        std::string rest = beast::buffers_to_string(self->buf_.data());
                        then(self->ctx_, self->stream_.release_socket(), std::move(rest));
                      });
  }

  ServerContext& ctx_;
  RequestCache& cache_;
  std::string prefix_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Request req_;
};

}  // namespace

void ServeHttp(ServerContext& ctx, RequestCache& cache, const std::string& path_prefix,
               tcp::socket socket) {
  std::make_shared<HttpSession>(ctx, cache, path_prefix, std::move(socket))->Start();
}

}  // namespace berth::cri::streaming
