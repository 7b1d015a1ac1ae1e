#pragma once
// The apiserver's HTTPS front: TLS (client certificates requested, checked
// against the cluster CA, never required), HTTP/1.1 with keep-alive, one
// thread per connection. A handler answers each request either whole
// (Send) or as a chunked stream (StartStream / WriteChunk / EndStream, for
// watch). What a handler does with the peer's certificate is the
// authenticator's business: here it is only read and verified.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::controlplane::http {

// The client certificate, when one was presented and verified.
struct PeerCertificate {
  bool verified = false;
  std::string common_name;
  std::vector<std::string> organizations;
};

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent: path and query
  std::string path;                            // the target up to '?'
  std::string query;                           // after '?', undecoded ("" when none)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  PeerCertificate peer;

  // A header's value, "" when absent; `name` lower-case.
  std::string Header(const std::string& name) const;
};

// The bytes of a connection taken over after an HTTP upgrade (a proxied
// exec, attach or port-forward stream).
class RawStream {
 public:
  virtual ~RawStream() = default;
  // Some bytes (0: the peer closed); blocks until there are any.
  virtual Result<size_t> ReadSome(char* buf, size_t size) = 0;
  virtual Status WriteAll(std::string_view data) = 0;
  // The socket, for poll(2), and whether bytes already wait inside the TLS
  // layer (then poll would not show them).
  virtual int fd() const = 0;
  virtual bool Pending() const = 0;
};

class Response {
 public:
  virtual ~Response() = default;
  // The whole response. `headers`: extra ones (name, value).
  virtual Status Send(int status, const std::string& content_type, std::string body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {}) = 0;
  // A chunked response; each WriteChunk reaches the client before it returns.
  virtual Status StartStream(int status, const std::string& content_type) = 0;
  virtual Status WriteChunk(std::string_view data) = 0;
  virtual Status EndStream() = 0;
  // The client hung up (a long watch checks between events).
  virtual bool PeerClosed() const = 0;
  // Writes `head` (a status line and headers, as the handler built them)
  // and hands the connection to `use`; it is closed afterwards.
  virtual Status Hijack(std::string_view head, const std::function<void(RawStream&)>& use) = 0;
};

// Called on the connection's thread; it may block (a watch does).
using Handler = std::function<void(const Request&, Response&)>;

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 6443;  // 0 = any free port
  std::string cert_pem;  // serving certificate, then its chain
  std::string key_pem;
  std::string client_ca_pem;               // CA for client certificates
  size_t max_body_bytes = 3 << 20;         // kube-apiserver's limit for a request body
  std::chrono::seconds idle_timeout{300};  // a kept-alive connection with no request
};

class HttpsServer {
 public:
  // Binds and starts accepting. Errors name the address.
  static Result<std::unique_ptr<HttpsServer>> Start(ServerOptions options, Handler handler);
  ~HttpsServer();  // Stop()
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  uint16_t port() const;
  // Stops accepting, shuts every connection down and joins their threads.
  void Stop();

 private:
  struct Impl;
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::controlplane::http
