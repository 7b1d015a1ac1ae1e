#include "controlplane/client/api_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/time.h"
#include "controlplane/server/http/beast.h"

namespace berth::controlplane::client {
namespace {

using namespace berth::controlplane::http;  // NOLINT(google-build-using-namespace): Beast aliases

Error Unreachable(const ClientConfig& c, const std::string& what, const std::string& why) {
  return Error(Errc::kUnavailable,
               what + " https://" + c.host + ":" + std::to_string(c.port) + ": " + why);
}

}  // namespace

boost::json::value ApiResponse::Json() const {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  return ec ? boost::json::value() : v;
}

struct ApiClient::Connection {
  net::io_context io;
  ssl::context tls{ssl::context::tls_client};
  std::unique_ptr<ssl::stream<tcp::socket>> stream;
  beast::flat_buffer buffer;
};

TokenBucket::TokenBucket(double qps, int burst)
    : qps_(qps), burst_(std::max(burst, 1)), tokens_(burst_), last_ns_(MonotonicNanos()) {}

void TokenBucket::Refill(int64_t now_ns) {
  if (now_ns > last_ns_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ns - last_ns_) * qps_ / 1e9);
    last_ns_ = now_ns;
  }
}

std::chrono::nanoseconds TokenBucket::Delay() {
  std::lock_guard lock(mu_);
  Refill(MonotonicNanos());
  if (tokens_ >= 1) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>((1 - tokens_) / qps_ * 1e9));
}

void TokenBucket::Wait() {
  std::chrono::nanoseconds wait(0);
  {
    std::lock_guard lock(mu_);
    Refill(MonotonicNanos());
    // Reserve now (the count may go negative) so that concurrent callers
    // queue up behind one another instead of racing for the same token.
    tokens_ -= 1;
    if (tokens_ < 0) wait = std::chrono::nanoseconds(static_cast<int64_t>(-tokens_ / qps_ * 1e9));
  }
  if (wait.count() > 0) std::this_thread::sleep_for(wait);
}

ApiClient::ApiClient(ClientConfig config) : config_(std::move(config)) {
  if (config_.qps > 0) limiter_ = std::make_unique<TokenBucket>(config_.qps, config_.burst);
}
ApiClient::~ApiClient() = default;

Result<std::unique_ptr<ApiClient::Connection>> ApiClient::Connect() {
  auto c = std::make_unique<Connection>();
  beast::error_code ec;
  c->tls.add_certificate_authority(net::buffer(config_.ca_pem), ec);
  if (ec) return Error(Errc::kInvalidArgument, "the cluster CA: " + ec.message());
  c->tls.set_verify_mode(ssl::verify_peer);
  if (!config_.certificate.cert_pem.empty()) {
    c->tls.use_certificate_chain(net::buffer(config_.certificate.cert_pem), ec);
    if (!ec)
      c->tls.use_private_key(net::buffer(config_.certificate.key_pem), ssl::context::pem, ec);
    if (ec) return Error(Errc::kInvalidArgument, "the client certificate: " + ec.message());
  }
  c->stream = std::make_unique<ssl::stream<tcp::socket>>(c->io, c->tls);
  net::ip::address address = net::ip::make_address(config_.host, ec);
  if (ec) return Unreachable(config_, "resolve", ec.message());
  c->stream->next_layer().connect(tcp::endpoint(address, config_.port), ec);
  if (ec) return Unreachable(config_, "connect to", ec.message());
  c->stream->handshake(ssl::stream_base::client, ec);
  if (ec) return Unreachable(config_, "TLS handshake with", ec.message());
  return c;
}

Result<ApiResponse> ApiClient::Do(std::string_view method, const std::string& target,
                                  const std::string& body, std::string_view content_type) {
  if (limiter_) limiter_->Wait();
  std::lock_guard lock(mu_);
  // A kept-alive connection the server closed fails on first use: one
  // retry on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!connection_) connection_ = BERTH_TRY(Connect());
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, config_.host);
    req.set(bhttp::field::accept, "application/json");
    if (!config_.bearer_token.empty()) {
      req.set(bhttp::field::authorization, "Bearer " + config_.bearer_token);
    }
    if (!body.empty()) req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    bhttp::write(*connection_->stream, req, ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256 << 20);
    if (!ec) bhttp::read(*connection_->stream, connection_->buffer, parser, ec);
    if (ec) {
      connection_.reset();
      if (attempt == 0) continue;
      return Unreachable(config_, std::string(method) + " " + target + " on", ec.message());
    }
    ApiResponse out{static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
    if (!parser.get().keep_alive()) connection_.reset();
    return out;
  }
  return Unreachable(config_, "reach", "no connection");
}

// A watch on a connection of its own: the chunked body split into lines.
class ApiWatch : public WatchStream {
 public:
  explicit ApiWatch(std::unique_ptr<ApiClient::Connection> c) : c_(std::move(c)) {}
  Result<std::string> NextLine() override {
    for (;;) {
      size_t nl = pending_.find('\n');
      if (nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        return line;
      }
      if (cancelled_) return Error(Errc::kCancelled, "watch cancelled");
      if (parser_.is_done()) return Error(Errc::kUnavailable, "watch stream ended");
      char chunk[16384];
      parser_.get().body().data = chunk;
      parser_.get().body().size = sizeof chunk;
      beast::error_code ec;
      bhttp::read_some(*c_->stream, c_->buffer, parser_, ec);
      if (cancelled_) return Error(Errc::kCancelled, "watch cancelled");
      if (ec && ec != bhttp::error::need_buffer) {
        return Error(Errc::kUnavailable, "watch stream: " + ec.message());
      }
      pending_.append(chunk, sizeof chunk - parser_.get().body().size);
    }
  }
  void Cancel() override {
    cancelled_ = true;
    ::shutdown(c_->stream->next_layer().native_handle(), SHUT_RDWR);
  }
  Status Start(const std::string& target, const ClientConfig& config) {
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, config.host);
    req.set(bhttp::field::accept, "application/json");
    if (!config.bearer_token.empty()) {
      req.set(bhttp::field::authorization, "Bearer " + config.bearer_token);
    }
    beast::error_code ec;
    bhttp::write(*c_->stream, req, ec);
    parser_.body_limit(boost::none);
    if (!ec) bhttp::read_header(*c_->stream, c_->buffer, parser_, ec);
    if (ec) return Error(Errc::kUnavailable, "watch " + target + ": " + ec.message());
    status_ = static_cast<int>(parser_.get().result_int());
    return Ok();
  }
  int status() const { return status_; }

 private:
  std::unique_ptr<ApiClient::Connection> c_;
  bhttp::response_parser<bhttp::buffer_body> parser_;
  std::string pending_;
  std::atomic<bool> cancelled_{false};
  int status_ = 0;
};

Result<std::unique_ptr<WatchStream>> ApiClient::Watch(const std::string& target) {
  if (limiter_) limiter_->Wait();
  auto watch = std::make_unique<ApiWatch>(BERTH_TRY(Connect()));
  BERTH_TRY(watch->Start(target, config_));
  if (watch->status() != 200) {
    // The body is a Status: read it whole as the one "line".
    return Error(Errc::kFailedPrecondition,
                 "watch " + target + ": HTTP " + std::to_string(watch->status()));
  }
  return std::unique_ptr<WatchStream>(std::move(watch));
}

}  // namespace berth::controlplane::client
