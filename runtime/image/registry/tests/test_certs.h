#pragma once
// A throwaway PKI for HTTPS tests: a CA and a server certificate it signs.

#include <string>

#include "common/error.h"

namespace berth::image::registry::testing {

struct TestPki {
  std::string ca_cert;      // PEM paths
  std::string server_cert;  // the leaf, then the CA
  std::string server_key;
};

// Writes ca.pem, server.pem and server-key.pem into `dir`; the server
// certificate's subjectAltName is `san` (OpenSSL syntax, e.g.
// "IP:127.0.0.1,DNS:localhost").
Result<TestPki> MakeTestPki(const std::string& dir, const std::string& san);

}  // namespace berth::image::registry::testing
