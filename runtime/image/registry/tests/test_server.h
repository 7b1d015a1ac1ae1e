#pragma once
// A small HTTP(S) server on 127.0.0.1 for registry client tests: each
// connection is served on its own thread by a handler function, with
// keep-alive, chunked bodies, and ways to misbehave (drop the connection,
// truncate the body, never answer).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/testing/testkit.h"
#include "runtime/image/registry/http_client.h"

namespace berth::image::registry::testing {

struct TestRequest {
  std::string method;
  std::string target;  // path?query
  std::string path;
  std::string query;
  HttpHeaders headers;
  std::string body;
  int connection = 0;  // which accepted connection (1, 2, ...) carried it
};

struct TestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<std::string> chunks;  // non-empty: sent chunked, one chunk each
  bool close = false;               // close after this response (no Connection: close)
  bool drop = false;                // close without answering
  size_t truncate = SIZE_MAX;       // send only this much of the body, then close
  int delay_ms = 0;                 // before answering

  static TestResponse Status(int status, std::string body = "") {
    TestResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  TestResponse& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using Handler = std::function<TestResponse(const TestRequest&)>;

struct TlsFiles {
  std::string cert;  // PEM chain
  std::string key;
};

class TestServer {
 public:
  // Listens on 127.0.0.1 at a free port; with `tls`, speaks HTTPS.
  static Result<std::unique_ptr<TestServer>> Start(Handler handler, const TlsFiles* tls = nullptr);
  ~TestServer();  // stops, closes every connection, joins the threads

  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const;  // "http://127.0.0.1:<port>"
  std::vector<TestRequest> requests() const;
  int connections() const { return connections_; }

 private:
  struct Impl;
  TestServer() = default;
  void AcceptLoop();
  void Serve(int fd, int connection);

  std::unique_ptr<Impl> impl_;
  Handler handler_;
  bool tls_ = false;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
  std::vector<TestRequest> requests_;
};

using berth::testing::UnusedPort;  // common/testing/testkit.h

}  // namespace berth::image::registry::testing
