#include "runtime/image/registry/http_client.h"

#include <strings.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <mutex>

#include "common/log.h"
#include "runtime/image/registry/tls.h"

namespace berth::image::registry {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

void HttpHeaders::Set(std::string name, std::string value) {
  Remove(name);
  Add(std::move(name), std::move(value));
}

void HttpHeaders::Remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& f) {
    return f.first.size() == name.size() &&
           ::strncasecmp(f.first.data(), name.data(), name.size()) == 0;
  });
}

std::optional<std::string> HttpHeaders::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  }
  return std::nullopt;
}

std::vector<std::string> HttpHeaders::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields_) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0)
      out.push_back(v);
  }
  return out;
}

namespace {

constexpr size_t kChunkSize = size_t{64} * 1024;
constexpr size_t kErrorBodyLimit = size_t{64} * 1024;
constexpr uint32_t kHeaderLimit = 64 * 1024;

struct Connection {
  net::io_context ioc;
  std::shared_ptr<net::ssl::context> ssl_ctx;  // before the stream that uses it
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool reused = false;

  beast::tcp_stream& lowest() const { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  template <class F>
  auto Visit(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }
};

// Runs one asynchronous operation to completion on the connection's own
// io_context; deadlines come from beast::tcp_stream::expires_after.
template <class Start>
beast::error_code RunOp(net::io_context& ioc, Start&& start) {
  beast::error_code result = net::error::operation_aborted;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string Seconds(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

Error NetError(const std::string& what, std::string_view phase, const beast::error_code& ec,
               std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout || ec == net::error::timed_out) {
    return Error(Errc::kDeadlineExceeded,
                 what + ": " + std::string(phase) + ": timed out after " + Seconds(timeout));
  }
  return Error(Errc::kUnavailable, what + ": " + std::string(phase) + ": " + ec.message());
}

void SetFailure(TransportFailure* failure, TransportFailure value) {
  if (failure != nullptr) *failure = value;
}

// One request/response on one connection, redirects not followed.
struct Hop {
  std::string method;
  Url url;
  const HttpHeaders* headers;
  const std::string* body;
  const HttpRequest* request;  // sink, max_body
  bool follow_redirect;        // a redirect's body is drained, not delivered
};

}  // namespace

struct HttpClient::Impl {
  HttpClientOptions options;
  std::mutex mu;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle;
  std::map<std::string, std::shared_ptr<net::ssl::context>> contexts;

  static std::string PoolKey(const Url& url, const TlsOptions& tls) {
    return url.scheme + "://" + url.HostPort() + (url.tls() ? "|" + tls.Key() : "");
  }

  Result<std::shared_ptr<net::ssl::context>> Context(const TlsOptions& tls) {
    std::lock_guard lock(mu);
    std::string key = tls.Key();
    auto it = contexts.find(key);
    if (it != contexts.end()) return it->second;
    std::shared_ptr<net::ssl::context> ctx = BERTH_TRY(MakeSslContext(tls));
    contexts.emplace(key, ctx);
    return ctx;
  }

  std::unique_ptr<Connection> TakeIdle(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = idle.find(key);
    if (it == idle.end() || it->second.empty()) return nullptr;
    std::unique_ptr<Connection> c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }

  void Release(const std::string& key, std::unique_ptr<Connection> c) {
    std::lock_guard lock(mu);
    auto& list = idle[key];
    if (list.size() >= options.max_idle_per_host) return;
    c->reused = true;
    list.push_back(std::move(c));
  }

  Result<std::unique_ptr<Connection>> Connect(const Url& url, const TlsOptions& tls,
                                              std::chrono::milliseconds dial,
                                              const std::string& what, TransportFailure* failure) {
    auto conn = std::make_unique<Connection>();
    tcp::resolver resolver(conn->ioc);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = net::error::timed_out;
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                           });
    conn->ioc.run_for(dial);
    if (!conn->ioc.stopped()) {
      resolver.cancel();
      conn->ioc.restart();
      conn->ioc.run();
      ec = net::error::timed_out;
    }
    if (ec) {
      SetFailure(failure, TransportFailure::kConnect);
      return NetError(what, "resolve " + url.host, ec, dial);
    }
    if (url.tls()) {
      Result<std::shared_ptr<net::ssl::context>> ctx = Context(tls);
      if (!ctx.ok()) {
        SetFailure(failure, TransportFailure::kTls);
        return std::move(ctx).error().Wrap(what);
      }
      conn->ssl_ctx = *ctx;
      conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(conn->ioc, **ctx);
      Status prepared = PrepareSsl(conn->tls->native_handle(), url.host, !tls.skip_verify);
      if (!prepared.ok()) {
        SetFailure(failure, TransportFailure::kTls);
        return std::move(prepared).error().Wrap(what);
      }
    } else {
      conn->plain = std::make_unique<beast::tcp_stream>(conn->ioc);
    }
    conn->lowest().expires_after(dial);
    ec = RunOp(conn->ioc, [&](auto handler) { conn->lowest().async_connect(endpoints, handler); });
    if (ec) {
      SetFailure(failure, TransportFailure::kConnect);
      return NetError(what, "connect", ec, dial);
    }
    if (conn->tls) {
      conn->lowest().expires_after(dial);
      ec = RunOp(conn->ioc, [&](auto handler) {
        conn->tls->async_handshake(net::ssl::stream_base::client, handler);
      });
      if (ec) {
        SetFailure(failure, TransportFailure::kTls);
        if (ec == beast::error::timeout) return NetError(what, "TLS handshake", ec, dial);
        return Error(Errc::kUnavailable,
                     what + ": TLS handshake: " +
                         DescribeTlsFailure(conn->tls->native_handle(), ec.message()));
      }
    }
    return conn;
  }

  // Sends the hop's request and reads the response. `stale` is set when a
  // reused connection turned out to be closed before anything came back.
  template <class Stream>
  Result<HttpResponse> Exchange(Stream& stream, Connection& conn, const Hop& hop,
                                const std::string& what, bool& stale, bool& keep,
                                TransportFailure* failure) {
    http::request<http::string_body> req;
    req.method_string(hop.method);
    req.target(hop.url.Target());
    req.version(11);
    req.set(http::field::host, hop.url.Authority());
    if (!hop.headers->Get("User-Agent")) req.set(http::field::user_agent, options.user_agent);
    for (const auto& [k, v] : hop.headers->fields())
      req.insert(k, v);
    req.body() = *hop.body;
    if (!hop.body->empty() || hop.method == "POST" || hop.method == "PUT") req.prepare_payload();

    conn.lowest().expires_after(options.io_timeout);
    beast::error_code ec =
        RunOp(conn.ioc, [&](auto handler) { http::async_write(stream, req, handler); });
    if (ec) {
      stale = conn.reused;
      SetFailure(failure, TransportFailure::kTransfer);
      return NetError(what, "write request", ec, options.io_timeout);
    }

    http::response_parser<http::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);
    if (hop.method == "HEAD") parser.skip(true);
    conn.lowest().expires_after(options.io_timeout);
    ec = RunOp(conn.ioc, [&](auto handler) {
      http::async_read_header(stream, conn.buffer, parser, handler);
    });
    if (ec) {
      stale = conn.reused && (ec == http::error::end_of_stream || ec == net::error::eof ||
                              ec == net::error::connection_reset || ec == net::error::broken_pipe);
      SetFailure(failure, TransportFailure::kTransfer);
      return NetError(what, "read response", ec, options.io_timeout);
    }

    auto& msg = parser.get();
    HttpResponse resp;
    resp.status = static_cast<int>(msg.result_int());
    resp.reason = std::string(msg.reason());
    if (resp.reason.empty()) resp.reason = std::string(http::obsolete_reason(msg.result()));
    for (const auto& field : msg)
      resp.headers.Add(std::string(field.name_string()), std::string(field.value()));
    resp.url = hop.url;

    enum class Mode { kDrain, kSink, kBuffer, kErrorBody } mode;
    if (hop.follow_redirect && IsRedirect(resp.status) && resp.headers.Get("Location")) {
      mode = Mode::kDrain;
    } else if (resp.ok() && hop.request->sink) {
      mode = Mode::kSink;
    } else if (resp.ok()) {
      mode = Mode::kBuffer;
    } else {
      mode = Mode::kErrorBody;
    }

    std::vector<char> buf(kChunkSize);
    // Beast reads as much as the connection buffer has room for: without
    // this the body arrives 512 bytes per recvmsg (and timer re-arm).
    conn.buffer.reserve(kChunkSize);
    bool complete = true;
    while (!parser.is_done()) {
      msg.body().data = buf.data();
      msg.body().size = buf.size();
      conn.lowest().expires_after(options.io_timeout);
      ec = RunOp(conn.ioc,
                 [&](auto handler) { http::async_read(stream, conn.buffer, parser, handler); });
      if (ec == http::error::need_buffer) ec = {};
      size_t n = buf.size() - msg.body().size;
      resp.body_bytes += static_cast<int64_t>(n);
      std::string_view chunk(buf.data(), n);
      if (mode == Mode::kSink && n > 0) {
        Status s = hop.request->sink(chunk);
        if (!s.ok()) {
          SetFailure(failure, TransportFailure::kAborted);
          return std::move(s).error();
        }
      }
      if (ec) {
        SetFailure(failure, TransportFailure::kTransfer);
        return NetError(what, "read body (after " + std::to_string(resp.body_bytes) + " bytes)", ec,
                        options.io_timeout);
      }
      if (mode == Mode::kBuffer) {
        if (resp.body.size() + n > hop.request->max_body) {
          SetFailure(failure, TransportFailure::kAborted);
          return Error(
              Errc::kResourceExhausted,
              what + ": response body exceeds " + std::to_string(hop.request->max_body) + " bytes");
        }
        resp.body.append(chunk);
      } else if (mode != Mode::kSink && resp.body.size() < kErrorBodyLimit) {
        resp.body.append(chunk.substr(0, kErrorBodyLimit - resp.body.size()));
      } else if (mode != Mode::kSink) {
        complete = false;  // an endless error or redirect body: stop reading
        break;
      }
    }
    keep = complete && parser.is_done() && msg.keep_alive();
    return resp;
  }

  Result<HttpResponse> OneHop(const Hop& hop, const std::string& what, TransportFailure* failure) {
    const HttpRequest& req = *hop.request;
    std::string key = PoolKey(hop.url, req.tls);
    std::chrono::milliseconds dial = req.dial_timeout.value_or(options.dial_timeout);
    while (true) {
      std::unique_ptr<Connection> conn = TakeIdle(key);
      if (!conn) conn = BERTH_TRY(Connect(hop.url, req.tls, dial, what, failure));
      bool stale = false;
      bool keep = false;
      Result<HttpResponse> resp = conn->Visit(
          [&](auto& stream) { return Exchange(stream, *conn, hop, what, stale, keep, failure); });
      if (!resp.ok() && stale) {
        BLOG(kDebug) << what << ": pooled connection was closed, reconnecting";
        continue;
      }
      if (resp.ok() && keep) Release(key, std::move(conn));
      return resp;
    }
  }
};

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Do(const HttpRequest& request, TransportFailure* failure) {
  SetFailure(failure, TransportFailure::kNone);
  Hop hop{request.method, request.url, &request.headers, &request.body, &request, true};
  HttpHeaders headers = request.headers;
  std::string body = request.body;
  hop.headers = &headers;
  hop.body = &body;
  for (int redirects = 0;; ++redirects) {
    hop.follow_redirect = redirects < request.max_redirects;
    std::string what = hop.method + " " + hop.url.String();
    HttpResponse resp = BERTH_TRY(impl_->OneHop(hop, what, failure));
    std::optional<std::string> location = resp.headers.Get("Location");
    if (!IsRedirect(resp.status) || !location) return resp;
    if (!hop.follow_redirect) {
      SetFailure(failure, TransportFailure::kRedirect);
      return Error(Errc::kUnavailable, what + ": stopped after " +
                                           std::to_string(request.max_redirects) + " redirects");
    }
    Result<Url> next = hop.url.Resolve(*location);
    if (!next.ok()) {
      SetFailure(failure, TransportFailure::kRedirect);
      return std::move(next).error().Wrap(what + ": redirect");
    }
    // Credentials stay with the host they were meant for.
    if (next->HostPort() != hop.url.HostPort()) headers.Remove("Authorization");
    if (resp.status == 303 ||
        ((resp.status == 301 || resp.status == 302) && hop.method == "POST")) {
      hop.method = hop.method == "HEAD" ? "HEAD" : "GET";
      body.clear();
      headers.Remove("Content-Type");
    }
    BLOG(kDebug) << what << ": " << resp.status << " redirect to " << next->String();
    hop.url = std::move(*next);
  }
}

}  // namespace berth::image::registry
