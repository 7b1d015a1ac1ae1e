#pragma once
// Servers the probe tests talk to, all on loopback or in process: an
// HTTP(S) server with per-path replies, a gRPC health server, and a fake
// CRI runtime that answers ExecSync.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/cri/cri_client.h"
#include "agent/probes/health.grpc.pb.h"

namespace berth::agent::testing {

struct SeenRequest {
  std::string target;                          // "/path?query"
  std::map<std::string, std::string> headers;  // keys lowercased
};

struct HttpReply {
  HttpReply(int status = 200, std::vector<std::pair<std::string, std::string>> headers = {},
            std::string body = "", std::chrono::milliseconds delay = {})
      : status(status), headers(std::move(headers)), body(std::move(body)), delay(delay) {}
  int status;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay;  // before the answer
};

// Answers GETs on 127.0.0.1 by path (the target without its query); other
// paths get 404. A request that is not HTTP (a TLS hello to the plain
// server) gets "HTTP/1.1 400 Bad Request", as real servers answer.
class TestHttpServer {
 public:
  explicit TestHttpServer(bool tls = false);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  uint16_t port() const { return port_; }
  void Handle(const std::string& path, std::function<HttpReply(const SeenRequest&)> handler);
  std::vector<SeenRequest> requests() const;

 private:
  struct Impl;
  void Serve(int fd);
  HttpReply Reply(const SeenRequest& request);

  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, std::function<HttpReply(const SeenRequest&)>> handlers_;
  std::vector<SeenRequest> requests_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
};

// grpc.health.v1.Health on 127.0.0.1: each service name has a status
// ("" included); unknown names get NOT_FOUND, as grpc's own server does.
// Without the health service (another service instead) the server
// answers UNIMPLEMENTED.
class TestHealthServer {
 public:
  explicit TestHealthServer(bool serve_health = true);
  ~TestHealthServer();
  int port() const { return port_; }
  void Set(const std::string& service, ::grpc::health::v1::HealthCheckResponse::ServingStatus s);

 private:
  class Service;
  std::unique_ptr<Service> service_;
  // Something else to serve when the health service is left out.
  std::unique_ptr<v1::ImageService::Service> other_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// A CRI runtime in this process answering ExecSync with `exec` (set by the
// test); other RPCs are unimplemented.
class FakeCri {
 public:
  using ExecFn = std::function<grpc::Status(const v1::ExecSyncRequest&, v1::ExecSyncResponse*)>;
  FakeCri();
  ~FakeCri();
  CriClient& client() { return *client_; }
  void SetExec(ExecFn fn);
  std::vector<v1::ExecSyncRequest> calls() const;

 private:
  class Runtime;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CriClient> client_;
};

}  // namespace berth::agent::testing
