#pragma once
// Absolute http(s) URLs as the registry client uses them: endpoints from
// hosts.toml, token realms, and redirect targets (RFC 3986 reference
// resolution for relative Location headers).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::image::registry {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // name or address; IPv6 without brackets
  uint16_t port = 0;   // always set (defaulted from the scheme)
  std::string path;    // "/v2/library/busybox/manifests/latest" (already escaped)
  std::string query;   // without '?', already escaped; "" when absent

  // Parses "http[s]://host[:port][/path][?query]" (a fragment is dropped).
  static Result<Url> Parse(std::string_view text);

  bool tls() const { return scheme == "https"; }
  bool default_port() const { return port == (tls() ? 443 : 80); }
  // "host[:port]" with the port only when not the scheme's default, as in a
  // Host header; IPv6 addresses are bracketed.
  std::string Authority() const;
  // "host:port", always with the port: the connection pool's key.
  std::string HostPort() const;
  // path[?query], at least "/": the HTTP request target.
  std::string Target() const;
  std::string String() const;

  // The URL a Location header `ref` points to, relative to this one.
  Result<Url> Resolve(std::string_view ref) const;
};

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string QueryEscape(std::string_view s);
// "k1=v1&k2=v2" with both sides escaped, in the given order.
std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& params);

// True for "localhost", 127.0.0.0/8 and ::1, with or without a port (what
// containerd's docker.IsLocalhost accepts).
bool IsLoopbackHost(std::string_view host_port);
// Splits "host:port" / "[v6]:port" / "host"; port is "" when absent.
std::pair<std::string, std::string> SplitHostPort(std::string_view host_port);

}  // namespace berth::image::registry
