#include "runtime/image/registry/url.h"

#include <arpa/inet.h>

#include <cctype>

#include "common/strings.h"

namespace berth::image::registry {
namespace {

Error Invalid(std::string_view text, std::string_view why) {
  return Error(Errc::kInvalidArgument, "URL \"" + std::string(text) + "\": " + std::string(why));
}

// RFC 3986 5.2.4.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string> out;
  std::vector<std::string> parts = Split(path, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    bool last = i + 1 == parts.size();
    if (p == ".") {
      if (last) out.emplace_back();
    } else if (p == "..") {
      if (out.size() > 1) out.pop_back();
      if (last) out.emplace_back();
    } else {
      out.push_back(p);
    }
  }
  std::string joined = Join(out, "/");
  if (joined.empty() || joined[0] != '/') joined.insert(joined.begin(), '/');
  return joined;
}

bool ValidHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace

std::pair<std::string, std::string> SplitHostPort(std::string_view hp) {
  if (!hp.empty() && hp[0] == '[') {
    size_t close = hp.find(']');
    if (close == std::string_view::npos) return {std::string(hp), ""};
    std::string host(hp.substr(1, close - 1));
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty() && rest[0] == ':') return {host, std::string(rest.substr(1))};
    return {host, ""};
  }
  size_t colon = hp.rfind(':');
  // A bare IPv6 address has several colons and no port.
  if (colon == std::string_view::npos || hp.find(':') != colon) return {std::string(hp), ""};
  return {std::string(hp.substr(0, colon)), std::string(hp.substr(colon + 1))};
}

bool IsLoopbackHost(std::string_view host_port) {
  auto [host, port] = SplitHostPort(host_port);
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Result<Url> Url::Parse(std::string_view text) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return Invalid(text, "missing scheme");
  Url u;
  for (char c : text.substr(0, sep))
    u.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https")
    return Invalid(text, "scheme must be http or https");
  std::string_view rest = text.substr(sep + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? "" : rest.substr(end);
  if (authority.find('@') != std::string_view::npos)
    return Invalid(text, "user information in URLs is not supported");
  auto [host, port] = SplitHostPort(authority);
  if (host.empty()) return Invalid(text, "missing host");
  bool v6 = !authority.empty() && authority[0] == '[';
  for (char c : host) {
    if (!ValidHostChar(c) && !(v6 && (c == ':' || c == '%')))
      return Invalid(text, "invalid character in host");
  }
  u.host = host;
  if (port.empty()) {
    u.port = u.tls() ? 443 : 80;
  } else {
    Result<uint16_t> p = ParseInt<uint16_t>(port, "port");
    if (!p.ok() || *p == 0) return Invalid(text, "invalid port \"" + port + "\"");
    u.port = *p;
  }
  size_t q = tail.find('?');
  u.path = std::string(tail.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(tail.substr(q + 1));
  return u;
}

std::string Url::Authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port() ? h : h + ":" + std::to_string(port);
}

std::string Url::HostPort() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string Url::Target() const {
  std::string t = path.empty() ? "/" : path;
  if (!query.empty()) t += "?" + query;
  return t;
}

std::string Url::String() const {
  return scheme + "://" + Authority() + Target();
}

Result<Url> Url::Resolve(std::string_view ref) const {
  if (ref.find("://") != std::string_view::npos) return Parse(ref);
  if (ref.substr(0, 2) == "//") return Parse(scheme + ":" + std::string(ref));
  Url out = *this;
  if (size_t hash = ref.find('#'); hash != std::string_view::npos) ref = ref.substr(0, hash);
  size_t q = ref.find('?');
  std::string_view ref_path = ref.substr(0, q);
  out.query = q == std::string_view::npos ? "" : std::string(ref.substr(q + 1));
  if (ref_path.empty()) {
    if (q == std::string_view::npos) out.query = query;
    return out;
  }
  if (ref_path[0] == '/') {
    out.path = RemoveDotSegments(ref_path);
  } else {
    std::string base = path.empty() ? "/" : path;
    out.path = RemoveDotSegments(base.substr(0, base.rfind('/') + 1) + std::string(ref_path));
  }
  return out;
}

std::string QueryEscape(std::string_view s) {
  return PercentEncode(s);
}

std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += QueryEscape(k) + "=" + QueryEscape(v);
  }
  return out;
}

}  // namespace berth::image::registry
