#include "runtime/cri/streaming/server.h"

#include <pthread.h>
#include <signal.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <future>
#include <optional>
#include <thread>

#include "common/log.h"
#include "runtime/cri/streaming/context.h"
#include "runtime/cri/streaming/http_front.h"
#include "runtime/cri/streaming/request_cache.h"

namespace berth::cri::streaming {

using tcp = asio::ip::tcp;

struct Server::Impl {
  Impl(BackendPtr b, Config c)
      : backend(std::move(b)),
        config(std::move(c)),
        io(std::make_unique<asio::io_context>()),
        loop(std::make_shared<LoopHandle>(*io)),
        ctx{*io, backend, config, loop, {}},
        cache(config.token_ttl, config.max_in_flight) {}

  void Accept() {
    acceptor->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor || !acceptor->is_open()) return;
      if (!ec) {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        ServeHttp(ctx, cache, path_prefix, std::move(socket));
      }
      Accept();
    });
  }

  Result<std::string> Url(std::string_view kind, const std::string& token) {
    std::lock_guard lock(mu);
    if (base.empty()) {
      return Error(Errc::kFailedPrecondition, "streaming server is not started");
    }
    return base + path_prefix + "/" + std::string(kind) + "/" + token;
  }

  BackendPtr backend;
  Config config;
  std::unique_ptr<asio::io_context> io;
  std::shared_ptr<LoopHandle> loop;
  ServerContext ctx;
  RequestCache cache;
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;

  mutable std::mutex mu;
  std::string address;      // bound host:port
  std::string base;         // scheme://host[:port], no path
  std::string path_prefix;  // "" or "/dir" (no trailing slash)
  bool started = false;
  bool stopped = false;
};

namespace {

Result<std::pair<std::string, std::string>> SplitHostPort(const std::string& address) {
  if (!address.empty() && address[0] == '[') {
    auto close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return Error(Errc::kInvalidArgument,
                   "streaming address: bad [host]:port \"" + address + "\"");
    }
    return std::make_pair(address.substr(1, close - 1), address.substr(close + 2));
  }
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Error(Errc::kInvalidArgument, "streaming address: missing port in \"" + address + "\"");
  }
  return std::make_pair(address.substr(0, colon), address.substr(colon + 1));
}

std::string JoinHostPort(const asio::ip::address& a, uint16_t port) {
  std::string host = a.to_string();
  if (a.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

// Splits "http://host:port/a/b" into base "http://host:port" and the
// directory of its path ("/a"), which prefixes the routes like kubelet's
// path.Dir(BaseURL.Path).
std::pair<std::string, std::string> SplitBaseUrl(const std::string& url) {
  auto scheme = url.find("://");
  size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  auto slash = url.find('/', host_start);
  if (slash == std::string::npos) return {url, ""};
  std::string path = url.substr(slash);
  auto last = path.rfind('/');
  std::string dir = path.substr(0, last);
  return {url.substr(0, slash), dir};
}

}  // namespace

Server::Server(BackendPtr backend, Config config)
    : impl_(std::make_unique<Impl>(std::move(backend), std::move(config))) {}

Server::~Server() {
  Stop();
}

Result<std::string> Server::Start(const std::string& address) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->started) return Error(Errc::kFailedPrecondition, "streaming server already started");
  }
  auto [host, port_s] = BERTH_TRY(SplitHostPort(address));
  auto& io = *impl_->io;
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port_s, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Error(Errc::kInvalidArgument,
                 "streaming address: resolve \"" + address + "\": " + ec.message());
  }
  tcp::endpoint ep = results.begin()->endpoint();
  tcp::acceptor acceptor(io);
  if (acceptor.open(ep.protocol(), ec) ||
      acceptor.set_option(tcp::acceptor::reuse_address(true), ec) || acceptor.bind(ep, ec) ||
      acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
    return Error(ErrcFromErrno(ec.value()), "listen `" + address + "`: " + ec.message());
  }
  tcp::endpoint bound = acceptor.local_endpoint(ec);
  std::string bound_s = JoinHostPort(bound.address(), bound.port());
  {
    std::lock_guard lock(impl_->mu);
    impl_->started = true;
    impl_->address = bound_s;
    auto [base, prefix] =
        SplitBaseUrl(impl_->config.base_url.empty() ? "http://" + bound_s : impl_->config.base_url);
    impl_->base = base;
    impl_->path_prefix = prefix;
  }
  impl_->acceptor.emplace(std::move(acceptor));
  impl_->Accept();
  impl_->thread = std::thread([this] {
    // Writing to a pipe whose reader is gone must fail with EPIPE, not kill
    // the process: SIGPIPE is thread-directed, so blocking it here suffices.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    auto work = asio::make_work_guard(*impl_->io);
    impl_->io->run();
  });
  return bound_s;
}

void Server::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->started || impl_->stopped) return;
    impl_->stopped = true;
  }
  // Close the listener and tear every connection down on the loop thread
  // (handlers see the connection gone: backends get `cancel`), then stop.
  auto torn_down = std::make_shared<std::promise<void>>();
  asio::post(*impl_->io, [impl = impl_.get(), torn_down] {
    boost::system::error_code ec;
    if (impl->acceptor) impl->acceptor->close(ec);
    impl->ctx.connections.AbortAll();
    torn_down->set_value();
  });
  torn_down->get_future().wait_for(std::chrono::seconds(5));
  impl_->io->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->loop->Detach();
  // Destroying the loop destroys every pending handler and with them the
  // connections and fds they keep alive.
  impl_->acceptor.reset();
  impl_->io.reset();
}

std::string Server::address() const {
  std::lock_guard lock(impl_->mu);
  return impl_->address;
}

Result<std::string> Server::GetExec(const ExecRequest& req) {
  if (req.container_id.empty()) {
    return Error(Errc::kInvalidArgument, "missing required container_id");
  }
  if (req.tty && req.stderr) {
    // With a tty there is only one output stream.
    return Error(Errc::kInvalidArgument, "tty and stderr cannot both be true");
  }
  if (!req.stdin && !req.stdout && !req.stderr) {
    return Error(Errc::kInvalidArgument, "one of stdin, stdout, or stderr must be set");
  }
  std::string token = BERTH_TRY(impl_->cache.Insert(req));
  return impl_->Url("exec", token);
}

Result<std::string> Server::GetAttach(const AttachRequest& req) {
  if (req.container_id.empty()) {
    return Error(Errc::kInvalidArgument, "missing required container_id");
  }
  if (req.tty && req.stderr) {
    return Error(Errc::kInvalidArgument, "tty and stderr cannot both be true");
  }
  if (!req.stdin && !req.stdout && !req.stderr) {
    return Error(Errc::kInvalidArgument, "one of stdin, stdout, and stderr must be set");
  }
  std::string token = BERTH_TRY(impl_->cache.Insert(req));
  return impl_->Url("attach", token);
}

Result<std::string> Server::GetPortForward(const PortForwardRequest& req) {
  if (req.pod_sandbox_id.empty()) {
    return Error(Errc::kInvalidArgument, "missing required pod_sandbox_id");
  }
  std::string token = BERTH_TRY(impl_->cache.Insert(req));
  return impl_->Url("portforward", token);
}

}  // namespace berth::cri::streaming
