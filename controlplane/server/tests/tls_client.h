#pragma once
// A blocking HTTPS client on one kept-alive connection, for the server's
// tests: trusts `ca_pem`, presents `cert` when given.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/pki/pki.h"
#include "controlplane/server/http/beast.h"

namespace berth::controlplane::http {

class TlsClient {
 public:
  TlsClient(uint16_t port, const std::string& ca_pem, const pki::Credential* cert) {
    tls_.add_certificate_authority(net::buffer(ca_pem));
    tls_.set_verify_mode(ssl::verify_peer);
    if (cert != nullptr) {
      tls_.use_certificate_chain(net::buffer(cert->cert_pem));
      tls_.use_private_key(net::buffer(cert->key_pem), ssl::context::pem);
    }
    // After the context is set up: a stream takes its settings when made.
    stream_.emplace(io_, tls_);
    stream_->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    stream_->handshake(ssl::stream_base::client);
  }

  // GET `target` as a stream: `on_line` gets each line of the chunked body
  // (a watch event) as it arrives and returns false to stop. Returns the
  // status code.
  template <class OnLine>
  int Stream(const std::string& target, OnLine on_line) {
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    bhttp::write(*stream_, req);
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    bhttp::read_header(*stream_, buffer_, parser);
    std::string pending;
    char chunk[16384];
    bool more = true;
    while (more && !parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      beast::error_code ec;
      bhttp::read_some(*stream_, buffer_, parser, ec);
      if (ec && ec != bhttp::error::need_buffer) break;
      pending.append(chunk, sizeof chunk - parser.get().body().size);
      size_t nl;
      while (more && (nl = pending.find('\n')) != std::string::npos) {
        more = on_line(std::string_view(pending).substr(0, nl));
        pending.erase(0, nl + 1);
      }
    }
    return parser.get().result_int();
  }

  // An upgrade request (exec, attach, port-forward): returns the status;
  // after a 101 the connection carries raw bytes (WriteRaw, ReadRaw).
  int Upgrade(bhttp::verb verb, const std::string& target, const std::string& protocol) {
    bhttp::request<bhttp::empty_body> req{verb, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::connection, "Upgrade");
    req.set(bhttp::field::upgrade, protocol);
    bhttp::write(*stream_, req);
    bhttp::response_parser<bhttp::empty_body> parser;
    parser.skip(true);  // a 101 has no body; what follows is the stream
    bhttp::read_header(*stream_, buffer_, parser);
    return parser.get().result_int();
  }
  void WriteRaw(std::string_view data) {
    net::write(*stream_, net::buffer(data.data(), data.size()));
  }
  // At least one byte, or "" when the peer closed.
  std::string ReadRaw() {
    if (buffer_.size() > 0) {
      std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
      buffer_.consume(buffer_.size());
      return out;
    }
    char buf[4096];
    beast::error_code ec;
    size_t n = stream_->read_some(net::buffer(buf), ec);
    return ec ? std::string() : std::string(buf, n);
  }

  bhttp::response<bhttp::string_body> Do(
      bhttp::verb verb, const std::string& target, std::string body = "",
      const std::string& content_type = "application/json", const std::string& accept = "",
      const std::string& bearer = "",
      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + bearer);
    for (const auto& [name, value] : headers)
      req.set(name, value);
    if (!body.empty()) req.set(bhttp::field::content_type, content_type);
    if (!accept.empty()) req.set(bhttp::field::accept, accept);
    req.body() = std::move(body);
    req.prepare_payload();
    bhttp::write(*stream_, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256 << 20);  // long watch streams in tests
    bhttp::read(*stream_, buffer_, parser);
    return parser.release();
  }

 private:
  net::io_context io_;
  ssl::context tls_{ssl::context::tls_client};
  std::optional<ssl::stream<tcp::socket>> stream_;
  beast::flat_buffer buffer_;
};

}  // namespace berth::controlplane::http
