#pragma once
// Registry hosts: which endpoints serve a registry, in containerd's
// hosts.toml directory format (docs/hosts.md in containerd).
//
//   <hosts_dir>/<registry host>/hosts.toml      e.g. certs.d/docker.io/hosts.toml
//   <hosts_dir>/<host>_<port>_/hosts.toml       for "host:port" (tried first)
//   <hosts_dir>/<host>:<port>/hosts.toml
//   <hosts_dir>/_default/hosts.toml             when no directory above exists
//
//   server = "https://registry-1.docker.io"      # upstream, tried last
//   [host."http://127.0.0.1:5000"]               # mirrors, tried in file order
//     capabilities = ["pull", "resolve"]         # default: pull, resolve, push
//     skip_verify = true
//     ca = "mirror.crt"                          # or an array; relative to the file
//     client = [["client.cert", "client.key"]]
//     override_path = true                       # the URL path is the API root (no /v2)
//     dial_timeout = "1s"
//     [host."http://127.0.0.1:5000".header]
//       x-custom = "value"                       # or an array of values
//
// Without a server the registry host itself is the upstream: https://<host>,
// https://registry-1.docker.io for docker.io, and for loopback hosts
// (localhost, 127.0.0.0/8, ::1) with a port other than 443 HTTPS without
// verification falling back to plain HTTP (port 80: HTTP only), as
// containerd does. A directory without hosts.toml contributes Docker's
// certificate files instead (*.crt CAs, *.cert/*.key client pairs). An
// http:// host given TLS settings (ca, client, skip_verify, or the global
// options) tries HTTPS first, then HTTP, again as containerd does.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "runtime/image/registry/tls_options.h"

namespace berth::image::registry {

enum Capability : uint32_t {
  kCapPull = 1,     // fetch blobs and manifests by digest
  kCapResolve = 2,  // turn a tag into a digest (a trusted operation)
  kCapPush = 4,
};

struct Endpoint {
  std::string scheme = "https";
  std::string host;          // "registry-1.docker.io", "127.0.0.1:5000"
  std::string path = "/v2";  // the API root
  uint32_t capabilities = kCapPull | kCapResolve | kCapPush;
  TlsOptions tls;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::chrono::milliseconds> dial_timeout;
  // Try HTTPS first and plain HTTP when the TLS handshake fails.
  bool http_fallback = false;
  // The configuration gave TLS settings (ca, client or skip_verify).
  bool tls_configured = false;

  // scheme://host/path, e.g. "https://registry-1.docker.io/v2".
  std::string BaseUrl() const { return scheme + "://" + host + path; }
  bool Can(Capability c) const { return (capabilities & c) != 0; }
};

struct HostsOptions {
  std::string hosts_dir;     // "" reads no files (defaults only)
  bool plain_http = false;   // the default server speaks HTTP (ctr --plain-http)
  bool skip_verify = false;  // no certificate verification for any host
  std::string ca_file;       // an extra CA for every host
};

// The endpoints for `registry_host` (a Reference's domain), in the order to
// try them: hosts.toml [host] tables in file order, then the server.
Result<std::vector<Endpoint>> ConfigureEndpoints(const HostsOptions& options,
                                                 std::string_view registry_host);

// The directories consulted for `registry_host`, most specific first.
std::vector<std::string> HostDirCandidates(std::string_view hosts_dir,
                                           std::string_view registry_host);

// One hosts.toml: its hosts in order and then the server entry (whose host
// is "" when the file has no `server`). Relative paths resolve against the
// file's directory; errors name `file`:line.
Result<std::vector<Endpoint>> ParseHostsFile(std::string_view text, std::string_view file);

// Go's time.ParseDuration for what dial_timeout uses ("1s", "500ms", "1m30s").
Result<std::chrono::milliseconds> ParseGoDuration(std::string_view text, std::string_view what);

}  // namespace berth::image::registry
