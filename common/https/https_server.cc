#include "common/https/https_server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include "common/https/beast.h"
#include "common/log.h"
#include "common/pki/pki.h"

namespace berth::https {
namespace {

using TlsStream = ssl::stream<tcp::socket>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Error NetError(const std::string& what, const beast::error_code& ec) {
  return Error(Errc::kUnavailable, what + ": " + ec.message());
}

PeerCertificate ReadPeer(SSL* ssl) {
  PeerCertificate peer;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return peer;
  peer.presented = true;
  std::string pem;
  if (BIO* bio = BIO_new(BIO_s_mem()); bio != nullptr) {
    if (PEM_write_bio_X509(bio, cert) == 1) {
      char* data = nullptr;
      long n = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int): OpenSSL's type
      pem.assign(data, static_cast<size_t>(n));
    }
    BIO_free(bio);
  }
  X509_free(cert);
  long verify = SSL_get_verify_result(ssl);  // NOLINT(google-runtime-int): OpenSSL's type
  peer.verified = verify == X509_V_OK;
  if (!peer.verified) peer.verify_error = X509_verify_cert_error_string(verify);
  Result<pki::CertInfo> info = pki::Inspect(pem);
  if (!info.ok()) {
    peer.verified = false;
    peer.verify_error = info.error().str();
    return peer;
  }
  peer.common_name = info->common_name;
  peer.organizations = info->organizations;
  return peer;
}

// The TLS connection after an upgrade; bytes the HTTP parser read ahead
// come first.
class TlsRawStream : public RawStream {
 public:
  TlsRawStream(TlsStream& stream, beast::flat_buffer& ahead) : stream_(stream), ahead_(ahead) {}

  Result<size_t> ReadSome(char* buf, size_t size) override {
    if (ahead_.size() > 0) {
      size_t n = net::buffer_copy(net::buffer(buf, size), ahead_.data());
      ahead_.consume(n);
      return n;
    }
    beast::error_code ec;
    size_t n = stream_.read_some(net::buffer(buf, size), ec);
    if (ec == net::error::eof || ec == ssl::error::stream_truncated) return size_t{0};
    if (ec) return NetError("read from client", ec);
    return n;
  }
  Status WriteAll(std::string_view data) override {
    beast::error_code ec;
    net::write(stream_, net::buffer(data.data(), data.size()), ec);
    if (ec) return NetError("write to client", ec);
    return Ok();
  }
  int fd() const override { return stream_.next_layer().native_handle(); }
  // Asio's TLS engine reads the socket in large chunks into a BIO pair:
  // records already read but not yet decrypted wait there, where neither
  // poll(2) nor SSL_pending sees them.
  bool Pending() const override {
    SSL* ssl = stream_.native_handle();
    return ahead_.size() > 0 || SSL_has_pending(ssl) == 1 ||
           BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
  }

 private:
  TlsStream& stream_;
  beast::flat_buffer& ahead_;
};

class ConnectionResponse : public Response {
 public:
  ConnectionResponse(TlsStream& stream, beast::flat_buffer& ahead, unsigned version,
                     bool keep_alive)
      : stream_(stream), ahead_(ahead), version_(version), keep_alive_(keep_alive) {}

  Status Send(int status, const std::string& content_type, std::string body,
              const std::vector<std::pair<std::string, std::string>>& headers) override {
    BERTH_TRY(Begin());
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version_};
    if (!content_type.empty()) res.set(bhttp::field::content_type, content_type);
    for (const auto& [name, value] : headers)
      res.set(name, value);
    res.keep_alive(keep_alive_);
    res.body() = std::move(body);
    res.prepare_payload();
    beast::error_code ec;
    bhttp::write(stream_, res, ec);
    if (ec) return Broken(NetError("write response", ec));
    complete_ = true;
    return Ok();
  }

  Status StartStream(int status, const std::string& content_type) override {
    BERTH_TRY(Begin());
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), version_};
    res.set(bhttp::field::content_type, content_type);
    res.set(bhttp::field::transfer_encoding, "chunked");
    res.keep_alive(keep_alive_);
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    beast::error_code ec;
    bhttp::write_header(stream_, sr, ec);
    if (ec) return Broken(NetError("write response header", ec));
    return Ok();
  }

  Status WriteChunk(std::string_view data) override {
    if (data.empty()) return Ok();  // an empty chunk would end the body
    beast::error_code ec;
    net::write(stream_, bhttp::make_chunk(net::const_buffer(data.data(), data.size())), ec);
    if (ec) return Broken(NetError("write chunk", ec));
    return Ok();
  }

  Status EndStream() override {
    beast::error_code ec;
    net::write(stream_, bhttp::make_chunk_last(), ec);
    if (ec) return Broken(NetError("end chunked response", ec));
    complete_ = true;
    return Ok();
  }

  bool PeerClosed() const override {
    pollfd p{socket_fd(), POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

  int socket_fd() const override { return stream_.next_layer().native_handle(); }

  Status Hijack(std::string_view head, const std::function<void(RawStream&)>& use) override {
    BERTH_TRY(Begin());
    keep_alive_ = false;
    // An upgraded stream may sit idle far longer than a kept-alive
    // connection between requests.
    timeval none{0, 0};
    ::setsockopt(socket_fd(), SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    TlsRawStream raw(stream_, ahead_);
    BERTH_TRY(raw.WriteAll(head));
    use(raw);
    complete_ = true;
    return Ok();
  }

  bool started() const { return started_; }
  bool reusable() const { return complete_ && !broken_ && keep_alive_; }

 private:
  Status Begin() {
    if (started_) return Error(Errc::kFailedPrecondition, "response already started");
    started_ = true;
    return Ok();
  }
  Error Broken(Error e) {
    broken_ = true;
    return e;
  }

  TlsStream& stream_;
  beast::flat_buffer& ahead_;
  unsigned version_;
  bool keep_alive_;
  bool started_ = false;
  bool complete_ = false;
  bool broken_ = false;
};

Request ToRequest(const bhttp::request<bhttp::string_body>& msg) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  for (const auto& field : msg) {
    std::string name(field.name_string());
    std::string value(field.value());
    std::string& joined = req.headers[Lower(name)];
    if (!joined.empty()) joined += ", ";
    joined += value;
    req.raw_headers.emplace_back(std::move(name), std::move(value));
  }
  req.body = msg.body();
  return req;
}

}  // namespace

std::string Request::Header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpsServer::Impl {
  struct Connection {
    int fd = -1;  // -1 once the connection's socket is closed
    std::thread thread;
    std::atomic<bool> done{false};
  };

  ServerOptions options;
  Handler handler;
  net::io_context io;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  std::mutex mu;
  std::list<std::shared_ptr<Connection>> connections;
  bool stopping = false;

  void AcceptLoop() {
    for (;;) {
      tcp::socket socket(io);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      std::lock_guard lock(mu);
      if (stopping) return;
      JoinEnded();
      if (ec) continue;
      auto c = std::make_shared<Connection>();
      c->fd = socket.native_handle();
      timeval idle{static_cast<time_t>(options.idle_timeout.count()), 0};
      ::setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
      connections.push_back(c);
      c->thread = std::thread([this, c, s = std::move(socket)]() mutable {
        Serve(std::move(s), *c);
        c->done = true;
      });
    }
  }

  // Under mu.
  void JoinEnded() {
    for (auto it = connections.begin(); it != connections.end();) {
      if ((*it)->done) {
        (*it)->thread.join();
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Serve(tcp::socket socket, Connection& c) {
    beast::error_code ec;
    std::string remote = socket.remote_endpoint(ec).address().to_string();
    TlsStream stream(std::move(socket), tls);
    // Declared after `stream`, so destroyed first: Stop must not shut down
    // an fd number the kernel may already have handed to someone else.
    struct Forget {
      Impl* impl;
      Connection& c;
      ~Forget() {
        std::lock_guard lock(impl->mu);
        c.fd = -1;
      }
    } forget{this, c};
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) return;
    PeerCertificate peer = ReadPeer(stream.native_handle());
    beast::flat_buffer ahead;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      bhttp::read(stream, ahead, parser, ec);
      if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
        (void)ConnectionResponse(stream, ahead, 11, false)
            .Send(ec == bhttp::error::body_limit ? 413 : 431, "text/plain; charset=utf-8",
                  ec.message() + "\n", {});
        break;
      }
      if (ec) break;  // closed, idle too long, or not HTTP
      Request req = ToRequest(parser.get());
      req.remote_address = remote;
      req.peer = peer;
      ConnectionResponse resp(stream, ahead, parser.get().version(), parser.get().keep_alive());
      try {
        handler(req, resp);
      } catch (const std::exception& e) {
        BLOG(kError) << options.name << " " << req.method << " " << req.path << ": " << e.what();
        if (!resp.started())
          (void)resp.Send(500, "text/plain; charset=utf-8", "internal error\n", {});
        break;
      }
      if (!resp.started()) {
        BLOG(kError) << options.name << " " << req.method << " " << req.path << ": no response";
        (void)resp.Send(500, "text/plain; charset=utf-8", "no response\n", {});
      }
      if (!resp.reusable()) break;
    }
    stream.shutdown(ec);
  }
};

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() {
  Stop();
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::Start(ServerOptions options, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->handler = std::move(handler);
  const ServerOptions& o = impl->options;
  beast::error_code ec;
  impl->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  impl->tls.use_certificate_chain(net::buffer(o.cert_pem), ec);
  if (ec) return Error(Errc::kInvalidArgument, o.name + " serving certificate: " + ec.message());
  impl->tls.use_private_key(net::buffer(o.key_pem), ssl::context::pem, ec);
  if (ec) return Error(Errc::kInvalidArgument, o.name + " serving key: " + ec.message());
  if (!o.client_ca_pem.empty()) {
    impl->tls.add_certificate_authority(net::buffer(o.client_ca_pem), ec);
    if (ec) return Error(Errc::kInvalidArgument, o.name + " client CA: " + ec.message());
    // Requested (verify_peer) but not required (no fail_if_no_peer_cert);
    // a certificate that does not verify is recorded, not refused here.
    impl->tls.set_verify_mode(ssl::verify_peer);
    impl->tls.set_verify_callback([](bool, ssl::verify_context&) { return true; });
  }
  std::string where = o.bind_address + ":" + std::to_string(o.port);
  net::ip::address address = net::ip::make_address(o.bind_address, ec);
  if (ec)
    return Error(Errc::kInvalidArgument,
                 o.name + " bind address " + o.bind_address + ": " + ec.message());
  tcp::endpoint endpoint(address, o.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error(Errc::kUnavailable, o.name + ": listen on " + where + ": " + ec.message());
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

uint16_t HttpsServer::port() const {
  beast::error_code ec;
  tcp::endpoint endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpsServer::Stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
    ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
    for (const auto& c : impl_->connections) {
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
  }
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::list<std::shared_ptr<Impl::Connection>> connections;
  {
    std::lock_guard lock(impl_->mu);
    connections.swap(impl_->connections);
  }
  for (const auto& c : connections)
    c->thread.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace berth::https
