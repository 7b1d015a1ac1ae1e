#pragma once
// The HTTPS listener of the apiserver and the kubelet API: TLS with client
// certificates requested and checked against the client CA but never
// required (so bearer tokens still work; what an unverified certificate
// means is the authenticator's business), HTTP/1.1 with keep-alive, one
// thread per connection. A handler answers whole (Send), as a chunked
// stream (a watch, a followed container log), or takes the connection over
// after an upgrade (exec, attach, port-forward).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::https {

// The client certificate of the connection.
struct PeerCertificate {
  bool presented = false;
  bool verified = false;     // chains to the client CA, valid now, usable for client auth
  std::string verify_error;  // why not, when presented and not verified
  std::string common_name;   // the user
  std::vector<std::string> organizations;  // the groups
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  std::string path;    // percent-encoded, as sent
  std::string query;   // after '?', undecoded
  // Lower-case names; a header sent twice is one comma-joined value.
  std::map<std::string, std::string> headers;
  // Headers with their names as sent, in order (what a proxied upgrade
  // forwards).
  std::vector<std::pair<std::string, std::string>> raw_headers;
  std::string body;
  std::string remote_address;  // the peer's IP
  PeerCertificate peer;

  std::string Header(const std::string& lower_case_name) const;
};

// A connection taken over after an upgrade.
class RawStream {
 public:
  virtual ~RawStream() = default;
  // Some bytes, 0 when the peer closed; blocks until there are any.
  virtual Result<size_t> ReadSome(char* buf, size_t size) = 0;
  virtual Status WriteAll(std::string_view data) = 0;
  // The socket for poll(2), and whether bytes already wait in user space
  // (TLS records or read-ahead) where poll cannot see them.
  virtual int fd() const = 0;
  virtual bool Pending() const = 0;
};

class Response {
 public:
  virtual ~Response() = default;
  virtual Status Send(int status, const std::string& content_type, std::string body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {}) = 0;
  // A chunked body; each chunk is on the wire when WriteChunk returns.
  virtual Status StartStream(int status, const std::string& content_type) = 0;
  virtual Status WriteChunk(std::string_view data) = 0;
  virtual Status EndStream() = 0;
  // The client hung up, or the server is stopping.
  virtual bool PeerClosed() const = 0;
  // The socket, for a handler that waits on it with poll(2) (POLLRDHUP).
  virtual int socket_fd() const = 0;
  // Writes `head` (status line and headers, as built by the caller) and
  // hands the connection to `use`; the connection closes afterwards.
  virtual Status Hijack(std::string_view head, const std::function<void(RawStream&)>& use) = 0;
};

// Runs on the connection's thread and may block (watch, follow, exec).
using Handler = std::function<void(const Request&, Response&)>;

struct ServerOptions {
  std::string name = "HTTPS";  // for logs and errors: "apiserver", "kubelet API"
  std::string bind_address = "0.0.0.0";
  uint16_t port = 0;     // 0: any free port
  std::string cert_pem;  // serving certificate, then its chain
  std::string key_pem;
  std::string client_ca_pem;              // empty: client certificates are not requested
  size_t max_body_bytes = 1 << 20;        // larger: 413
  size_t max_header_bytes = 1 << 20;      // larger: 431
  std::chrono::seconds idle_timeout{90};  // a kept-alive connection with no request
};

class HttpsServer {
 public:
  // Binds and starts accepting. Errors name the address.
  static Result<std::unique_ptr<HttpsServer>> Start(ServerOptions options, Handler handler);
  ~HttpsServer();  // Stop()
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  uint16_t port() const;
  // Stops accepting, shuts every connection down (waking blocked reads,
  // writes and polls) and joins the connection threads.
  void Stop();

  struct Impl;

 private:
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::https
