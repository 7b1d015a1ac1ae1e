#include "runtime/image/registry/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace berth::image::registry {
namespace {

std::string OpenSslError() {
  unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

bool IsIpAddress(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> MakeSslContext(const TlsOptions& options) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  SSL_CTX* raw = ctx->native_handle();
  SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION);
  if (options.skip_verify) {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  } else {
    if (SSL_CTX_set_default_verify_paths(raw) != 1)
      return Error(Errc::kInternal, "TLS: load system CA certificates: " + OpenSslError());
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
  }
  for (const std::string& ca : options.ca_files) {
    if (SSL_CTX_load_verify_locations(raw, ca.c_str(), nullptr) != 1) {
      return Error(Errc::kInvalidArgument,
                   "TLS: load CA certificate `" + ca + "`: " + OpenSslError());
    }
  }
  for (const auto& [cert, key] : options.client_certs) {
    if (SSL_CTX_use_certificate_chain_file(raw, cert.c_str()) != 1) {
      return Error(Errc::kInvalidArgument,
                   "TLS: load client certificate `" + cert + "`: " + OpenSslError());
    }
    const std::string& key_file = key.empty() ? cert : key;
    if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Error(Errc::kInvalidArgument,
                   "TLS: load client key `" + key_file + "`: " + OpenSslError());
    }
  }
  return ctx;
}

Status PrepareSsl(SSL* ssl, const std::string& host, bool verify) {
  bool ip = IsIpAddress(host);
  if (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    return Error(Errc::kInternal, "TLS: set server name `" + host + "`: " + OpenSslError());
  if (!verify) return Ok();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
              : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (ok != 1)
    return Error(Errc::kInternal, "TLS: set expected host `" + host + "`: " + OpenSslError());
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return Ok();
}

std::string DescribeTlsFailure(SSL* ssl, const std::string& fallback) {
  long result = SSL_get_verify_result(ssl);  // NOLINT(google-runtime-int): OpenSSL's type
  if (result != X509_V_OK)
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
  return fallback;
}

}  // namespace berth::image::registry
