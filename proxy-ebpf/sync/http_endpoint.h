#pragma once
// A small plain-HTTP/1.1 GET server for what kube-proxy serves without
// TLS: the metrics endpoint (Prometheus scrapes) and health checks. One
// thread, poll(2), one request per connection (Connection: close).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/fd.h"

namespace berth::proxy {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpEndpoint {
 public:
  using Handler = std::function<HttpAnswer(const std::string& path)>;
  // Listens on `address`:`port` ("0.0.0.0", "::", "127.0.0.1"); port 0
  // picks one. The error names the address.
  static Result<std::unique_ptr<HttpEndpoint>> Start(const std::string& address, uint16_t port,
                                                     Handler handler);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;
  uint16_t port() const { return port_; }

 private:
  HttpEndpoint() = default;
  void Serve();
  void Answer(int client);

  UniqueFd listener_;
  uint16_t port_ = 0;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace berth::proxy
