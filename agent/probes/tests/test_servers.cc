#include "agent/probes/tests/test_servers.h"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/pki/pki.h"
#include "common/testing/testkit.h"

namespace berth::agent::testing {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

struct TestHttpServer::Impl {
  bool tls = false;
  UniqueFd listener;
  std::unique_ptr<ssl::context> tls_context;
};

TestHttpServer::TestHttpServer(bool tls) : impl_(std::make_unique<Impl>()) {
  impl_->tls = tls;
  impl_->listener = berth::testing::ListenLoopback(&port_).value();
  if (tls) {
    pki::Credential ca = pki::SelfSignedCa("probe-test-ca").value();
    pki::CertSpec spec;
    spec.common_name = "probe-test";
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    pki::Credential cert = pki::Issue(ca, spec).value();
    impl_->tls_context = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls_context->use_certificate_chain(net::buffer(cert.cert_pem));
    impl_->tls_context->use_private_key(net::buffer(cert.key_pem), ssl::context::pem);
  }
  acceptor_ = std::thread([this] {
    while (!stopping_) {
      int fd = ::accept4(impl_->listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard lock(mu_);
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  });
}

TestHttpServer::~TestHttpServer() {
  stopping_ = true;
  ::shutdown(impl_->listener.get(), SHUT_RDWR);
  acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mu_);
    connections.swap(connections_);
  }
  for (std::thread& t : connections)
    t.join();
}

void TestHttpServer::Handle(const std::string& path,
                            std::function<HttpReply(const SeenRequest&)> handler) {
  std::lock_guard lock(mu_);
  handlers_[path] = std::move(handler);
}

std::vector<SeenRequest> TestHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

HttpReply TestHttpServer::Reply(const SeenRequest& request) {
  std::function<HttpReply(const SeenRequest&)> handler;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    auto it = handlers_.find(request.target.substr(0, request.target.find('?')));
    if (it != handlers_.end()) handler = it->second;
  }
  return handler ? handler(request) : HttpReply{404, {}, "not found"};
}

void TestHttpServer::Serve(int fd) {
  net::io_context io;
  tcp::socket socket(io, tcp::v4(), fd);
  auto exchange = [this](auto& stream) {
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    beast::error_code ec;
    bhttp::read(stream, buffer, req, ec);
    if (ec) {
      std::string bad =
          "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      net::write(stream, net::buffer(bad), ec);
      return;
    }
    SeenRequest seen{std::string(req.target()), {}};
    for (const auto& field : req)
      seen.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
    HttpReply reply = Reply(seen);
    if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
    bhttp::response<bhttp::string_body> resp{static_cast<bhttp::status>(reply.status), 11};
    for (const auto& [name, value] : reply.headers)
      resp.set(name, value);
    resp.body() = reply.body;
    resp.keep_alive(false);
    resp.prepare_payload();
    bhttp::write(stream, resp, ec);
  };
  if (!impl_->tls) {
    exchange(socket);
  } else {
    ssl::stream<tcp::socket&> stream(socket, *impl_->tls_context);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (!ec) exchange(stream);
  }
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

class TestHealthServer::Service final : public ::grpc::health::v1::Health::Service {
 public:
  grpc::Status Check(grpc::ServerContext*, const ::grpc::health::v1::HealthCheckRequest* req,
                     ::grpc::health::v1::HealthCheckResponse* resp) override {
    std::lock_guard lock(mu_);
    auto it = statuses_.find(req->service());
    if (it == statuses_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
    resp->set_status(it->second);
    return grpc::Status::OK;
  }
  void Set(const std::string& service, ::grpc::health::v1::HealthCheckResponse::ServingStatus s) {
    std::lock_guard lock(mu_);
    statuses_[service] = s;
  }

 private:
  std::mutex mu_;
  std::map<std::string, ::grpc::health::v1::HealthCheckResponse::ServingStatus> statuses_;
};

TestHealthServer::TestHealthServer(bool serve_health) : service_(std::make_unique<Service>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  if (serve_health) {
    builder.RegisterService(service_.get());
  } else {
    other_ = std::make_unique<v1::ImageService::Service>();
    builder.RegisterService(other_.get());
  }
  server_ = builder.BuildAndStart();
}

TestHealthServer::~TestHealthServer() {
  server_->Shutdown(std::chrono::system_clock::now());
}

void TestHealthServer::Set(const std::string& service,
                           ::grpc::health::v1::HealthCheckResponse::ServingStatus s) {
  service_->Set(service, s);
}

class FakeCri::Runtime final : public v1::RuntimeService::Service {
 public:
  grpc::Status ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* req,
                        v1::ExecSyncResponse* resp) override {
    ExecFn fn;
    {
      std::lock_guard lock(mu_);
      calls_.push_back(*req);
      fn = exec_;
    }
    if (!fn) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no exec handler");
    return fn(*req, resp);
  }
  void Set(ExecFn fn) {
    std::lock_guard lock(mu_);
    exec_ = std::move(fn);
  }
  std::vector<v1::ExecSyncRequest> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  ExecFn exec_;
  std::vector<v1::ExecSyncRequest> calls_;
};

FakeCri::FakeCri() : runtime_(std::make_unique<Runtime>()) {
  grpc::ServerBuilder builder;
  builder.RegisterService(runtime_.get());
  server_ = builder.BuildAndStart();
  client_ = std::make_unique<CriClient>(server_->InProcessChannel(grpc::ChannelArguments()));
}

FakeCri::~FakeCri() {
  server_->Shutdown(std::chrono::system_clock::now());
}

void FakeCri::SetExec(ExecFn fn) {
  runtime_->Set(std::move(fn));
}

std::vector<v1::ExecSyncRequest> FakeCri::calls() const {
  return runtime_->calls();
}

}  // namespace berth::agent::testing
