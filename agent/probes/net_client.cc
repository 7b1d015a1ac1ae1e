#include "agent/probes/net_client.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <optional>

#include "agent/probes/go_format.h"

namespace berth::agent {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

constexpr size_t kMaxBody = size_t{10} * 1024;
constexpr int kMaxRedirects = 10;
constexpr std::string_view kHttpToHttps = "http: server gave HTTP response to HTTPS client";
constexpr auto kAwait = net::as_tuple(net::use_awaitable);

// Where one request goes.
struct Url {
  std::string scheme, host;
  int port = 80;
  std::string authority;  // the URL's host[:port] as written (the Host header)
  std::string path, query;

  std::string String() const {
    std::string out = scheme + "://" + authority;
    if (!path.empty() && path[0] != '/') out += '/';
    out += path;
    if (!query.empty()) out += "?" + query;
    return out;
  }
  std::string Target() const {
    std::string out = path.empty() || path[0] != '/' ? "/" + path : path;
    if (!query.empty()) out += "?" + query;
    return out;
  }
};

// Splits "path?query#fragment" (the fragment is dropped).
void SetPathAndQuery(std::string_view ref, Url* url) {
  ref = ref.substr(0, ref.find('#'));
  size_t q = ref.find('?');
  url->path = std::string(ref.substr(0, q));
  url->query = q == std::string_view::npos ? "" : std::string(ref.substr(q + 1));
}

int DefaultPort(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

// host[:port] or [v6][:port] into the URL.
bool SetAuthority(std::string_view authority, Url* url) {
  url->authority = std::string(authority);
  url->port = DefaultPort(url->scheme);
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      port = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (!port.empty()) {
    int n = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || n > 65535) return false;
      n = n * 10 + (c - '0');
    }
    url->port = n;
  }
  url->host = std::string(host);
  return !url->host.empty();
}

// A Location header resolved against the URL it answered.
std::optional<Url> ResolveLocation(const Url& base, std::string_view location) {
  Url next = base;
  size_t scheme_end = location.find("://");
  bool absolute =
      scheme_end != std::string_view::npos && location.find_first_of("/?#") > scheme_end;
  if (absolute || location.starts_with("//")) {
    if (absolute) {
      next.scheme = std::string(location.substr(0, scheme_end));
      for (char& c : next.scheme)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (next.scheme != "http" && next.scheme != "https") return std::nullopt;
      location.remove_prefix(scheme_end + 3);
    } else {
      location.remove_prefix(2);
    }
    size_t end = location.find_first_of("/?#");
    if (!SetAuthority(location.substr(0, end), &next)) return std::nullopt;
    SetPathAndQuery(end == std::string_view::npos ? "" : location.substr(end), &next);
    return next;
  }
  if (location.starts_with('/')) {
    SetPathAndQuery(location, &next);
  } else if (location.starts_with('?')) {
    SetPathAndQuery(base.path + std::string(location), &next);
  } else {
    std::string dir = base.path.substr(0, base.path.rfind('/') + 1);
    SetPathAndQuery((dir.empty() ? "/" : dir) + std::string(location), &next);
  }
  return next;
}

// Go's http.CanonicalHeaderKey ("x-custom-header" -> "X-Custom-Header").
std::string CanonicalKey(std::string_view key) {
  std::string out(key);
  bool upper = true;
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u == ' ' || u >= 0x80) return std::string(key);  // Go leaves such keys alone
    c = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
    upper = c == '-';
  }
  return out;
}

bool IsIpAddress(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

bool IsTimeout(const beast::error_code& ec) {
  return ec == beast::error::timeout || ec == net::error::timed_out;
}

// A socket error as Go names it.
std::string TransportError(const beast::error_code& ec) {
  if (ec == bhttp::error::end_of_stream || ec == net::error::eof) return "EOF";
  if (ec == bhttp::error::partial_message || ec == net::ssl::error::stream_truncated) {
    return "unexpected EOF";
  }
  return gofmt::ErrnoText(ec.message());
}

struct Attempt {
  std::string error;  // empty: an answer came
  bool timed_out = false;
  int status = 0;
  std::string location, body, body_error;
};

// Connects `stream` to host:port; fills `out` on failure.
net::awaitable<bool> Dial(beast::tcp_stream& stream, const std::string& host, int port,
                          Attempt* out) {
  std::string address = JoinHostPort(host, port);
  std::vector<tcp::endpoint> endpoints;
  beast::error_code ec;
  net::ip::address ip = net::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(ip, static_cast<uint16_t>(port));
  } else {
    tcp::resolver resolver(co_await net::this_coro::executor);
    auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), kAwait);
    if (rec) {
      out->error = "dial tcp: lookup " + host + ": " + gofmt::ErrnoText(rec.message());
      co_return false;
    }
    for (const auto& r : results)
      endpoints.push_back(r.endpoint());
  }
  auto [cec, endpoint] = co_await stream.async_connect(endpoints, kAwait);
  if (IsTimeout(cec)) {
    out->timed_out = true;
    out->error = "dial tcp " + address + ": i/o timeout";
    co_return false;
  }
  if (cec) {
    out->error = "dial tcp " + address + ": connect: " + gofmt::ErrnoText(cec.message());
    co_return false;
  }
  co_return true;
}

// Writes `request` and reads the answer's header and up to 10 KiB of body.
template <class Stream>
net::awaitable<void> Exchange(Stream& stream, const bhttp::request<bhttp::empty_body>& request,
                              Attempt* out) {
  auto [wec, written] = co_await bhttp::async_write(stream, request, kAwait);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  beast::error_code hec = wec;
  if (!hec)
    std::tie(hec, std::ignore) = co_await bhttp::async_read_header(stream, buffer, parser, kAwait);
  if (hec) {
    out->timed_out = IsTimeout(hec);
    out->error = out->timed_out ? "context deadline exceeded" : TransportError(hec);
    co_return;
  }
  out->status = static_cast<int>(parser.get().result_int());
  out->location = std::string(parser.get()[bhttp::field::location]);
  while (!parser.is_done() && parser.get().body().size() < kMaxBody) {
    auto [bec, n] = co_await bhttp::async_read_some(stream, buffer, parser, kAwait);
    if (bec) {
      if (bec != bhttp::error::end_of_stream) out->body_error = TransportError(bec);
      break;
    }
  }
  out->body = std::move(parser.get().body());
  if (out->body.size() > kMaxBody) out->body.resize(kMaxBody);
}

net::awaitable<void> Fetch(const Url& url, const bhttp::request<bhttp::empty_body>& request,
                           Deadline deadline, Attempt* out) {
  auto executor = co_await net::this_coro::executor;
  if (url.scheme != "https") {
    beast::tcp_stream stream(executor);
    stream.expires_at(deadline);
    if (co_await Dial(stream, url.host, url.port, out)) co_await Exchange(stream, request, out);
    co_return;
  }
  ssl::context tls(ssl::context::tls_client);
  tls.set_verify_mode(ssl::verify_none);
  beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
  beast::get_lowest_layer(stream).expires_at(deadline);
  if (!co_await Dial(beast::get_lowest_layer(stream), url.host, url.port, out)) co_return;
  if (!IsIpAddress(url.host)) SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, kAwait);
  if (hec) {
    out->timed_out = IsTimeout(hec);
    if (out->timed_out) {
      out->error = "context deadline exceeded";
    } else if (hec.message().find("wrong version number") != std::string::npos) {
      // What OpenSSL says when the first bytes are "HTTP/" rather than a
      // TLS record, which Go reports as below.
      out->error = std::string(kHttpToHttps);
    } else {
      out->error = "tls: " + hec.message();
    }
    co_return;
  }
  co_await Exchange(stream, request, out);
}

Deadline AddSaturating(Deadline t, std::chrono::seconds d) {
  return t > Deadline::max() - d ? Deadline::max() : t + d;
}

// One request/response on a fresh connection, bounded by `deadline`.
Attempt FetchOnce(const Url& url, const bhttp::request<bhttp::empty_body>& request,
                  Deadline deadline) {
  Attempt attempt;
  bool finished = false;
  net::io_context io;
  net::co_spawn(io, Fetch(url, request, deadline, &attempt), [&](const std::exception_ptr& e) {
    finished = true;
    if (e && attempt.error.empty()) attempt.error = "internal error in HTTP client";
  });
  // The streams time out by themselves; this bounds a name lookup too.
  io.run_until(AddSaturating(deadline, std::chrono::seconds(1)));
  if (!finished) {
    attempt.timed_out = true;
    attempt.error = "context deadline exceeded";
  }
  return attempt;
}

bool IsFollowedRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Url UrlOf(const HttpRequest& request) {
  Url url;
  url.scheme = request.scheme.empty() ? "http" : request.scheme;
  url.host = request.host;
  url.port = request.port;
  url.authority = JoinHostPort(request.host, request.port);
  SetPathAndQuery(request.path, &url);
  return url;
}

}  // namespace

std::string JoinHostPort(std::string_view host, int port) {
  std::string p = std::to_string(port);
  if (host.find(':') != std::string_view::npos) return "[" + std::string(host) + "]:" + p;
  return std::string(host) + ":" + p;
}

std::string HttpUrl(const HttpRequest& request) {
  return UrlOf(request).String();
}

bool IsHttpResponseToHttps(const Error& error) {
  return error.message().find(kHttpToHttps) != std::string::npos;
}

Status TcpCheck(const std::string& host, int port, Deadline deadline) {
  Attempt attempt;
  bool finished = false;
  net::io_context io;
  auto check = [&]() -> net::awaitable<void> {
    beast::tcp_stream stream(co_await net::this_coro::executor);
    stream.expires_at(deadline);
    if (!co_await Dial(stream, host, port, &attempt)) co_return;
    beast::error_code ignored;
    stream.socket().set_option(net::socket_base::linger(true, 0), ignored);
  };
  net::co_spawn(io, check(), [&](const std::exception_ptr&) { finished = true; });
  io.run_until(AddSaturating(deadline, std::chrono::seconds(1)));
  if (!finished) {
    attempt.timed_out = true;
    attempt.error = "dial tcp " + JoinHostPort(host, port) + ": i/o timeout";
  }
  if (attempt.error.empty()) return Ok();
  return Error(attempt.timed_out ? Errc::kDeadlineExceeded : Errc::kUnavailable, attempt.error);
}

Result<HttpResponse> HttpGet(const HttpRequest& request, Deadline deadline, bool client_timeout) {
  Url url = UrlOf(request);
  const std::string first_host = url.host;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/", 11};
  std::string custom_host;
  bool user_agent = false, accept = false, accept_empty = false;
  for (const auto& [name, value] : request.headers) {
    std::string key = CanonicalKey(name);
    if (key == "Host") {
      if (custom_host.empty()) custom_host = value;
      continue;
    }
    if (key == "User-Agent") user_agent = true;
    if (key == "Accept") {
      if (!accept) accept_empty = value.empty();
      accept = true;
    }
    req.insert(key, value);
  }
  if (!user_agent) req.set(bhttp::field::user_agent, request.user_agent);
  if (!accept) req.set(bhttp::field::accept, "*/*");
  if (accept && accept_empty) req.erase(bhttp::field::accept);
  req.set(bhttp::field::connection, "close");

  for (int redirects = 0;; ++redirects) {
    req.target(url.Target());
    req.set(bhttp::field::host, custom_host.empty() ? url.authority : custom_host);
    Attempt attempt = FetchOnce(url, req, deadline);
    if (!attempt.error.empty()) {
      std::string why = attempt.error;
      if (attempt.timed_out && client_timeout) {
        why += " (Client.Timeout exceeded while awaiting headers)";
      }
      return Error(attempt.timed_out ? Errc::kDeadlineExceeded : Errc::kUnavailable,
                   "Get " + gofmt::Quote(url.String()) + ": " + why);
    }
    if (!IsFollowedRedirect(attempt.status) || attempt.location.empty()) {
      return HttpResponse{attempt.status, std::move(attempt.body), std::move(attempt.body_error)};
    }
    std::optional<Url> next = ResolveLocation(url, attempt.location);
    if (!next) {
      return Error(Errc::kUnavailable, "Get " + gofmt::Quote(url.String()) +
                                           ": failed to parse Location header " +
                                           gofmt::Quote(attempt.location));
    }
    // Redirects to another host end here: kubelet does not follow them.
    if (next->host != first_host) {
      return HttpResponse{attempt.status, std::move(attempt.body), std::move(attempt.body_error)};
    }
    if (redirects + 1 >= kMaxRedirects) {
      return Error(Errc::kUnavailable,
                   "Get " + gofmt::Quote(attempt.location) + ": stopped after 10 redirects");
    }
    // A custom Host header survives only relative redirects, as in Go.
    bool relative =
        attempt.location.find("://") == std::string::npos && !attempt.location.starts_with("//");
    if (!relative) custom_host.clear();
    url = std::move(*next);
  }
}

}  // namespace berth::agent
