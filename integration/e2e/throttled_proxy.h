#pragma once
// A TCP proxy on 127.0.0.1 in front of a server on 127.0.0.1, passing
// requests through as they come and answers at a capped rate, in small
// pieces: a registry behind it serves a layer slowly but steadily, so that
// a pull is still running when a test acts. It counts the answer bytes it
// passed, which shows when the client stopped downloading.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth::e2e {

class ThrottledProxy {
 public:
  // Listens on 127.0.0.1 at a free port; answers from `upstream_port` go
  // out at most `bytes_per_second` (0: unlimited) per connection.
  static Result<std::unique_ptr<ThrottledProxy>> Start(uint16_t upstream_port,
                                                       uint64_t bytes_per_second);
  ~ThrottledProxy();  // closes every connection and joins the threads
  ThrottledProxy(const ThrottledProxy&) = delete;
  ThrottledProxy& operator=(const ThrottledProxy&) = delete;

  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // Applies to data not yet passed, on every connection.
  void SetRate(uint64_t bytes_per_second) { rate_ = bytes_per_second; }
  // Answer bytes passed to clients so far, over all connections.
  uint64_t bytes_down() const { return bytes_down_; }

 private:
  ThrottledProxy() = default;
  void AcceptLoop();
  void Relay(UniqueFd client);
  // Sockets of live connections, shut down by the destructor so that no
  // relay stays blocked in a send.
  void Track(int fd);
  void Untrack(int fd);

  uint16_t port_ = 0;
  uint16_t upstream_port_ = 0;
  UniqueFd listener_;
  std::atomic<uint64_t> rate_{0};
  std::atomic<uint64_t> bytes_down_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> relays_;
  std::set<int> open_;
};

}  // namespace berth::e2e
