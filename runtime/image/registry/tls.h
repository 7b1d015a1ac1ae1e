#pragma once
// OpenSSL contexts for https endpoints (internal to the HTTP client).

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/error.h"
#include "runtime/image/registry/tls_options.h"

namespace berth::image::registry {

// TLS 1.2 or later; the system's default CA paths plus options.ca_files;
// client certificates; peer verification unless options.skip_verify.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeSslContext(const TlsOptions& options);

// Per connection: SNI (for names, not addresses) and verification that the
// certificate names `host` (a DNS name or an IP address).
Status PrepareSsl(SSL* ssl, const std::string& host, bool verify);

// Why a handshake failed, from the verification result when there is one
// ("certificate verify failed: self-signed certificate").
std::string DescribeTlsFailure(SSL* ssl, const std::string& fallback);

}  // namespace berth::image::registry
