#pragma once
// A client of the Kubernetes API for berth's own controllers, scheduler
// and agent: HTTPS to one apiserver, the server checked against the
// cluster CA, a client certificate or a bearer token for identity. Plain
// requests share one kept-alive connection (re-made when it breaks);
// each watch gets a connection of its own. It speaks only what any
// apiserver speaks, so its users work against upstream too.

#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/pki/pki.h"

namespace berth::controlplane::client {

struct ClientConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 6443;
  std::string ca_pem;           // the cluster CA
  pki::Credential certificate;  // empty: none
  std::string bearer_token;     // empty: none
  // A client-side rate limit as client-go's: a token bucket holding up to
  // `burst` requests, refilled at `qps` per second; each request (and each
  // watch it opens) takes a token, waiting for one when the bucket is
  // empty. qps <= 0: no limit.
  double qps = 0;
  int burst = 0;
};

// The token bucket behind ClientConfig::qps/burst (golang.org/x/time/rate
// semantics: a caller reserves the next token and sleeps until it is due).
class TokenBucket {
 public:
  TokenBucket(double qps, int burst);
  // Takes a token, sleeping until one is available.
  void Wait();
  // How long the next Wait would sleep (0 when a token is there now).
  std::chrono::nanoseconds Delay();

 private:
  void Refill(int64_t now_ns);

  std::mutex mu_;
  double qps_;
  double burst_;
  double tokens_;
  int64_t last_ns_;
};

struct ApiResponse {
  int status = 0;
  std::string body;
  // The body as JSON; null when it is not.
  boost::json::value Json() const;
};

// One line of a watch stream at a time.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // The next event line; kUnavailable when the stream ended (timeout,
  // server restart) and kCancelled after Cancel.
  virtual Result<std::string> NextLine() = 0;
  // Ends the stream from another thread.
  virtual void Cancel() = 0;
};

class ApiClient {
 public:
  explicit ApiClient(ClientConfig config);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // kUnavailable when the server cannot be reached; HTTP errors come back
  // as responses (their bodies are Status objects).
  Result<ApiResponse> Do(std::string_view method, const std::string& target,
                         const std::string& body = "",
                         std::string_view content_type = "application/json");
  // A GET of `target` (a ?watch=1 URL) as a stream of lines.
  Result<std::unique_ptr<WatchStream>> Watch(const std::string& target);

  struct Connection;  // a TLS connection (api_client.cc)

 private:
  Result<std::unique_ptr<Connection>> Connect();

  ClientConfig config_;
  std::unique_ptr<TokenBucket> limiter_;  // null: no client-side rate limit
  std::mutex mu_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace berth::controlplane::client
