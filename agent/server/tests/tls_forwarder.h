#pragma once
// A loopback plain-TCP listener that forwards each connection to a TLS
// server with a client certificate, as the apiserver's kubelet client
// does: lets the streaming test clients (plain HTTP) reach the kubelet
// API. Plain OpenSSL over the socket (no read-ahead), so one poll loop per
// connection sees every byte.

#include <openssl/ssl.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "common/pki/pki.h"

namespace berth::agent::kubelet::testing {

class TlsForwarder {
 public:
  TlsForwarder(uint16_t target_port, const pki::Credential& client);
  ~TlsForwarder();
  TlsForwarder(const TlsForwarder&) = delete;
  TlsForwarder& operator=(const TlsForwarder&) = delete;
  uint16_t port() const { return port_; }

 private:
  void AcceptLoop();
  void Serve(int client_fd);

  uint16_t target_port_;
  SSL_CTX* ctx_ = nullptr;
  UniqueFd listener_;
  UniqueFd wake_read_, wake_write_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
};

// A TLS client that can put several TLS records into one TCP send: what
// arrives when a peer writes a burst, and what a TLS reader that reads the
// socket ahead (Asio's engine) must not strand.
class BurstTlsClient {
 public:
  BurstTlsClient(uint16_t port, const pki::Credential& client);
  ~BurstTlsClient();
  BurstTlsClient(const BurstTlsClient&) = delete;
  BurstTlsClient& operator=(const BurstTlsClient&) = delete;
  bool connected() const { return connected_; }
  // Each piece becomes one TLS record; all of them leave in one send(2).
  bool SendRecords(const std::vector<std::string>& pieces);
  // What the server sends, until `done` says enough, it closes or
  // `timeout_millis` pass without data.
  std::string ReadUntil(const std::function<bool(const std::string&)>& done, int timeout_millis);

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  UniqueFd fd_;
  bool connected_ = false;
};

}  // namespace berth::agent::kubelet::testing
