#include "runtime/image/registry/tests/test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace berth::image::registry::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

struct TestServer::Impl {
  int listen_fd = -1;
  std::unique_ptr<net::ssl::context> ssl;
};

namespace {

template <class Stream>
void WriteResponse(Stream& stream, const TestRequest& req, const TestResponse& r, bool& close) {
  beast::error_code ec;
  bool has_length = false;
  for (const auto& [k, v] : r.headers)
    has_length |= beast::iequals(k, "Content-Length");
  auto head = [&](auto& res) {
    res.result(static_cast<unsigned>(r.status));
    res.version(11);
    for (const auto& [k, v] : r.headers)
      res.insert(k, v);
  };
  if (!r.chunks.empty()) {
    http::response<http::empty_body> res;
    head(res);
    res.chunked(true);
    http::response_serializer<http::empty_body> sr(res);
    http::write_header(stream, sr, ec);
    for (const std::string& c : r.chunks)
      net::write(stream, http::make_chunk(net::buffer(c)), ec);
    net::write(stream, http::make_chunk_last(), ec);
    return;
  }
  if (req.method == "HEAD" || r.truncate < r.body.size()) {
    http::response<http::empty_body> res;
    head(res);
    if (!has_length) res.set(http::field::content_length, std::to_string(r.body.size()));
    http::response_serializer<http::empty_body> sr(res);
    http::write_header(stream, sr, ec);
    if (req.method != "HEAD") {
      net::write(stream, net::buffer(r.body.data(), r.truncate), ec);
      close = true;
    }
    return;
  }
  http::response<http::string_body> res;
  head(res);
  res.body() = r.body;
  if (!has_length) res.prepare_payload();
  http::write(stream, res, ec);
}

}  // namespace

std::string TestServer::url() const {
  return std::string(tls_ ? "https" : "http") + "://" + host();
}

std::vector<TestRequest> TestServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

Result<std::unique_ptr<TestServer>> TestServer::Start(Handler handler, const TlsFiles* tls) {
  std::unique_ptr<TestServer> s(new TestServer());
  s->impl_ = std::make_unique<Impl>();
  s->handler_ = std::move(handler);
  if (tls != nullptr) {
    s->tls_ = true;
    s->impl_->ssl = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    beast::error_code ec;
    s->impl_->ssl->use_certificate_chain_file(tls->cert, ec);
    if (!ec) s->impl_->ssl->use_private_key_file(tls->key, net::ssl::context::pem, ec);
    if (ec) return Error(Errc::kInternal, "test server TLS: " + ec.message());
  }
  s->impl_->listen_fd = BERTH_TRY(berth::testing::ListenLoopback(&s->port_)).release();
  s->acceptor_ = std::thread([raw = s.get()] { raw->AcceptLoop(); });
  return s;
}

void TestServer::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(impl_->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;
    }
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    int n = ++connections_;
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd, n] { Serve(fd, n); });
  }
}

void TestServer::Serve(int fd, int connection) {
  net::io_context ioc;
  tcp::socket sock(ioc);
  sock.assign(tcp::v4(), fd);
  auto serve = [&](auto& stream) {
    beast::flat_buffer buffer;
    while (!stopping_) {
      http::request<http::string_body> req;
      beast::error_code ec;
      http::read(stream, buffer, req, ec);
      if (ec) return;
      TestRequest tr;
      tr.method = std::string(req.method_string());
      tr.target = std::string(req.target());
      size_t q = tr.target.find('?');
      tr.path = tr.target.substr(0, q);
      if (q != std::string::npos) tr.query = tr.target.substr(q + 1);
      for (const auto& f : req)
        tr.headers.Add(std::string(f.name_string()), std::string(f.value()));
      tr.body = req.body();
      tr.connection = connection;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(tr);
      }
      TestResponse r = handler_(tr);
      if (r.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(r.delay_ms));
      if (r.drop) return;
      bool close = r.close || !req.keep_alive();
      WriteResponse(stream, tr, r, close);
      if (close) return;
    }
  };
  if (tls_) {
    net::ssl::stream<tcp::socket&> stream(sock, *impl_->ssl);
    beast::error_code ec;
    stream.handshake(net::ssl::stream_base::server, ec);
    if (!ec) serve(stream);
  } else {
    serve(sock);
  }
  {
    std::lock_guard lock(mu_);
    std::erase(open_fds_, fd);
  }
  beast::error_code ignored;
  sock.close(ignored);
}

TestServer::~TestServer() {
  stopping_ = true;
  ::shutdown(impl_->listen_fd, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  ::close(impl_->listen_fd);
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (std::thread& t : workers)
    t.join();
}

}  // namespace berth::image::registry::testing
