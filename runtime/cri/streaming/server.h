#pragma once
// berth::cri::streaming::Server: the CRI streaming server, speaking what
// kubelet's streaming library (k8s.io/kubelet/pkg/cri/streaming) speaks.
//
// The CRI service calls GetExec/GetAttach/GetPortForward from its RPC
// handlers; each validates the request like kubelet, stores it behind a
// random one-time token (valid for Config::token_ttl, 1 minute by default)
// and returns the URL for the CRI response:
//     http://<host:port>/exec/<token>   /attach/<token>   /portforward/<token>
// The client (kubelet's proxy, crictl, kubectl through the apiserver) then
// connects there and upgrades to SPDY/3.1 (X-Stream-Protocol-Version:
// v5/v4/v3/v2.channel.k8s.io or channel.k8s.io; portforward.k8s.io) or
// WebSocket (Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io,
// v4.base64.channel.k8s.io, channel.k8s.io, base64.channel.k8s.io). An
// unknown, expired or already used token answers 404.
//
// Threads: Start() runs one event loop thread; every Backend call happens
// on it. GetExec & co. may be called from any thread.

#include <chrono>
#include <memory>
#include <string>

#include "common/error.h"
#include "runtime/cri/streaming/backend.h"

namespace berth::cri::streaming {

struct Config {
  // Base for the URLs, e.g. "http://10.0.0.5:10010"; empty: "http://" + the
  // bound address. A path is kept like kubelet does (its directory prefixes
  // the routes).
  std::string base_url;
  std::chrono::milliseconds token_ttl = std::chrono::minutes(1);
  size_t max_in_flight = 1000;  // cached requests; more -> ResourceExhausted
  // Connections with no traffic for this long are closed (kubelet: 4h).
  std::chrono::milliseconds stream_idle_timeout = std::chrono::hours(4);
  // SPDY: how long the client has to open all its streams (30 s).
  std::chrono::milliseconds stream_creation_timeout = std::chrono::seconds(30);
  // After the process exited, how long to wait for EOF on stdout/stderr
  // (a daemonised child can keep them open) before the status is sent.
  std::chrono::milliseconds output_drain_timeout = std::chrono::seconds(2);
  // Port forward: once one direction ended, how long the other may go on
  // (containerd: 1 s, like socat).
  std::chrono::milliseconds port_forward_linger = std::chrono::seconds(1);
};

class Server {
 public:
  Server(BackendPtr backend, Config config = {});
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // Stop()s

  // Listens on `address` ("host:port", "[v6]:port"; port 0 picks one) and
  // starts the event loop thread. Returns the bound "host:port".
  Result<std::string> Start(const std::string& address);
  // Closes the listener and every connection (sessions whose process is
  // still running call the backend's `cancel`, as when a client goes away)
  // and joins the thread. fds handed over by the backend are closed.
  void Stop();

  // The bound address ("127.0.0.1:43121") once started.
  std::string address() const;

  // CRI: the URL for the response, or InvalidArgument (request fails
  // kubelet's validation) / ResourceExhausted (too many cached requests).
  Result<std::string> GetExec(const ExecRequest& req);
  Result<std::string> GetAttach(const AttachRequest& req);
  Result<std::string> GetPortForward(const PortForwardRequest& req);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::cri::streaming
