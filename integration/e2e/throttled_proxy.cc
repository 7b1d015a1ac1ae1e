#include "integration/e2e/throttled_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace berth::e2e {
namespace {

// A throttled connection sends at most a tick's worth of its rate at once.
constexpr int kTickMs = 20;
constexpr size_t kBufferSize = size_t{64} * 1024;

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// All of `data`, or false when the peer is gone (or the proxy stopping
// shut the socket down).
bool SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<ThrottledProxy>> ThrottledProxy::Start(uint16_t upstream_port,
                                                              uint64_t bytes_per_second) {
  std::unique_ptr<ThrottledProxy> proxy(new ThrottledProxy());
  proxy->upstream_port_ = upstream_port;
  proxy->rate_ = bytes_per_second;
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::Sys("socket", "proxy listener");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = Loopback(0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Sys("bind", "127.0.0.1:0");
  }
  if (::listen(fd.get(), 64) != 0) return Error::Sys("listen", "proxy listener");
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Error::Sys("getsockname", "proxy listener");
  }
  proxy->port_ = ntohs(addr.sin_port);
  proxy->listener_ = std::move(fd);
  proxy->acceptor_ = std::thread([raw = proxy.get()] { raw->AcceptLoop(); });
  return proxy;
}

ThrottledProxy::~ThrottledProxy() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : open_)
      ::shutdown(fd, SHUT_RDWR);
  }
  // Only the acceptor added relays, and it is gone.
  for (std::thread& t : relays_)
    t.join();
}

void ThrottledProxy::Track(int fd) {
  std::lock_guard lock(mu_);
  open_.insert(fd);
}

void ThrottledProxy::Untrack(int fd) {
  std::lock_guard lock(mu_);
  open_.erase(fd);
}

void ThrottledProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    std::lock_guard lock(mu_);
    open_.insert(client.get());
    relays_.emplace_back([this, fd = client.release()] { Relay(UniqueFd(fd)); });
  }
}

void ThrottledProxy::Relay(UniqueFd client) {
  UniqueFd upstream(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = Loopback(upstream_port_);
  if (upstream) Track(upstream.get());
  bool connected =
      upstream && ::connect(upstream.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  std::vector<char> buf(kBufferSize);
  double budget = 0;  // bytes this connection may still send now
  auto last = std::chrono::steady_clock::now();
  while (connected && !stopping_) {
    uint64_t rate = rate_;
    auto now = std::chrono::steady_clock::now();
    if (rate > 0) {
      double refill = static_cast<double>(rate) * std::chrono::duration<double>(now - last).count();
      double cap = std::max(1.0, static_cast<double>(rate) * kTickMs / 1000.0);
      budget = std::min(budget + refill, cap);
    }
    last = now;
    bool may_send = rate == 0 || budget >= 1;
    pollfd fds[2] = {{client.get(), POLLIN, 0}, {upstream.get(), POLLIN, 0}};
    int ready = ::poll(fds, may_send ? 2 : 1, kTickMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    if (fds[0].revents != 0) {
      ssize_t got = ::recv(client.get(), buf.data(), buf.size(), 0);
      if (got <= 0 || !SendAll(upstream.get(), buf.data(), static_cast<size_t>(got))) break;
    }
    if (may_send && fds[1].revents != 0) {
      size_t want = rate == 0 ? buf.size() : std::min(buf.size(), static_cast<size_t>(budget));
      ssize_t got = ::recv(upstream.get(), buf.data(), want, 0);
      if (got <= 0) break;
      if (rate > 0) budget -= static_cast<double>(got);
      if (!SendAll(client.get(), buf.data(), static_cast<size_t>(got))) break;
      bytes_down_ += static_cast<uint64_t>(got);
    }
  }
  // Forgotten before the sockets close, so that the destructor never shuts
  // down a reused descriptor.
  Untrack(client.get());
  if (upstream) Untrack(upstream.get());
}

}  // namespace berth::e2e
