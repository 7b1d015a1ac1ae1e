#pragma once
// A small synchronous HTTP/1.1 client on Boost.Beast for registry traffic.
//
//   HttpClient http;
//   HttpRequest req;
//   req.url = BERTH_TRY(Url::Parse("https://host/v2/"));
//   req.sink = [&](std::string_view chunk) { return file.Write(chunk); };
//   HttpResponse resp = BERTH_TRY(http.Do(req));
//
// What it does: HTTPS with the system CAs plus optional extra CA files and
// client certificates, hostname (or IP address) verification, or none with
// skip_verify; plain HTTP when the URL says so. Redirects (301, 302, 303,
// 307, 308) are followed, dropping Authorization when the host changes.
// Chunked and Content-Length bodies stream to the request's sink (2xx only)
// or are buffered with a limit. Every connect, handshake, read and write has
// a deadline. Idle keep-alive connections are pooled per scheme, host, port
// and TLS settings, and a pooled connection the server has since closed is
// replaced transparently.
//
// Thread safety: Do may be called from several threads at once; each
// connection has its own io_context and only the pool is shared.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "runtime/image/registry/tls_options.h"
#include "runtime/image/registry/url.h"

namespace berth::image::registry {

// Header fields in order; names compare case-insensitively.
class HttpHeaders {
 public:
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  void Set(std::string name, std::string value);
  void Remove(std::string_view name);
  std::optional<std::string> Get(std::string_view name) const;  // the first
  std::vector<std::string> GetAll(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

using BodySink = std::function<Status(std::string_view chunk)>;

struct HttpRequest {
  std::string method = "GET";
  Url url;
  HttpHeaders headers;
  std::string body;  // sent with Content-Length (form posts to token realms)
  TlsOptions tls;
  std::optional<std::chrono::milliseconds> dial_timeout;  // overrides the client's
  // Receives the body of a 2xx final response as it arrives; an error from
  // it aborts the transfer. Unset: the body is buffered into
  // HttpResponse::body, at most max_body bytes.
  BodySink sink;
  size_t max_body = 1 << 20;
  int max_redirects = 10;
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  HttpHeaders headers;
  // The buffered body; with a sink and a non-2xx status, the first 64 KiB of
  // the (error) body.
  std::string body;
  Url url;                 // after redirects
  int64_t body_bytes = 0;  // body bytes received
  bool ok() const { return status >= 200 && status < 300; }
  // "404 Not Found"
  std::string StatusLine() const { return std::to_string(status) + " " + reason; }
};

// Why Do failed, for callers that retry or try another host.
enum class TransportFailure {
  kNone,
  kConnect,   // name resolution or TCP connect failed or timed out: nothing was sent
  kTls,       // the TLS handshake failed (certificate, protocol, plain-HTTP server)
  kTransfer,  // the connection broke or timed out after the request was sent
  kAborted,   // the sink refused data, or a buffered body exceeded max_body
  kRedirect,  // too many redirects or an unusable Location
};

struct HttpClientOptions {
  std::chrono::milliseconds dial_timeout{30'000};
  // Each read or write must make progress within this long.
  std::chrono::milliseconds io_timeout{60'000};
  size_t max_idle_per_host = 4;
  std::string user_agent = "berth";
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs `request`, following redirects. Any HTTP status is a response;
  // an error means no final response was received, and `failure` says why.
  Result<HttpResponse> Do(const HttpRequest& request, TransportFailure* failure = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::image::registry
