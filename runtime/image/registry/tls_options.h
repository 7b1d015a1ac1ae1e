#pragma once
// How an https endpoint is verified: system CAs plus extra CA files, client
// certificates, or no verification at all (hosts.toml skip_verify).

#include <string>
#include <utility>
#include <vector>

namespace berth::image::registry {

struct TlsOptions {
  bool skip_verify = false;
  std::vector<std::string> ca_files;  // PEM, added to the system CAs
  // (certificate, key) PEM files; key "" means the key is in the first file.
  std::vector<std::pair<std::string, std::string>> client_certs;

  bool operator==(const TlsOptions& other) const = default;
  // A stable text form, the key of the SSL_CTX cache.
  std::string Key() const;
};

}  // namespace berth::image::registry
