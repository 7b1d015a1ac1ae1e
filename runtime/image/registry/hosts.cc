#include "runtime/image/registry/hosts.h"

#include <cctype>
#include <charconv>

#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "runtime/image/reference.h"
#include "runtime/image/registry/toml.h"
#include "runtime/image/registry/url.h"

namespace berth::image::registry {
namespace {

using toml::Value;

constexpr std::string_view kDockerHubServer = "registry-1.docker.io";

Error FieldError(std::string_view file, const Value& v, std::string_view key,
                 std::string_view why) {
  return Error(Errc::kInvalidArgument, std::string(file) + ":" + std::to_string(v.line) + ": " +
                                           std::string(key) + ": " + std::string(why));
}

Error WrongType(std::string_view file, const Value& v, std::string_view key,
                std::string_view expected) {
  return FieldError(file, v, key, "expected " + std::string(expected) + ", got " + v.KindName());
}

std::string AbsPath(std::string_view p, std::string_view dir) {
  if (!p.empty() && p[0] == '/') return CleanPath(p);
  return CleanPath(PathJoin(dir, p));
}

// A string or an array of strings.
Result<std::vector<std::string>> Strings(std::string_view file, const Value& v,
                                         std::string_view key) {
  if (v.kind == Value::Kind::kString) return std::vector<std::string>{v.string};
  if (v.kind != Value::Kind::kArray) return WrongType(file, v, key, "a string or an array");
  std::vector<std::string> out;
  for (const Value& item : v.array) {
    if (item.kind != Value::Kind::kString) return WrongType(file, item, key, "an array of strings");
    out.push_back(item.string);
  }
  return out;
}

Result<uint32_t> Capabilities(std::string_view file, const Value& v) {
  if (v.kind != Value::Kind::kArray) return WrongType(file, v, "capabilities", "an array");
  uint32_t caps = 0;
  for (const std::string& c : BERTH_TRY(Strings(file, v, "capabilities"))) {
    std::string lower;
    for (char ch : c)
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower == "pull") {
      caps |= kCapPull;
    } else if (lower == "resolve") {
      caps |= kCapResolve;
    } else if (lower == "push") {
      caps |= kCapPush;
    } else {
      return FieldError(file, v, "capabilities", "unknown capability \"" + c + "\"");
    }
  }
  return caps;
}

Result<std::vector<std::pair<std::string, std::string>>> ClientPairs(std::string_view file,
                                                                     const Value& v,
                                                                     std::string_view dir) {
  std::vector<std::pair<std::string, std::string>> out;
  if (v.kind == Value::Kind::kString) {
    out.emplace_back(AbsPath(v.string, dir), "");
    return out;
  }
  if (v.kind != Value::Kind::kArray) return WrongType(file, v, "client", "a string or an array");
  for (const Value& item : v.array) {
    if (item.kind == Value::Kind::kString) {
      out.emplace_back(AbsPath(item.string, dir), "");
      continue;
    }
    std::vector<std::string> pair = BERTH_TRY(Strings(file, item, "client"));
    if (item.kind != Value::Kind::kArray || pair.size() != 2)
      return FieldError(file, item, "client", "expected a [certificate, key] pair");
    out.emplace_back(AbsPath(pair[0], dir), pair[1].empty() ? "" : AbsPath(pair[1], dir));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Headers(std::string_view file,
                                                                 const Value& v) {
  if (v.kind != Value::Kind::kTable) return WrongType(file, v, "header", "a table");
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < v.table.size(); ++i) {
    const std::string& name = v.table.keys[i];
    for (std::string& value : BERTH_TRY(Strings(file, v.table.values[i], "header." + name)))
      out.emplace_back(name, std::move(value));
  }
  return out;
}

// The fields shared by [host."..."] tables and the file's top level.
Status ApplyField(std::string_view file, std::string_view dir, const std::string& key,
                  const Value& v, Endpoint& ep, bool& override_path) {
  if (key == "capabilities") {
    ep.capabilities = BERTH_TRY(Capabilities(file, v));
  } else if (key == "skip_verify") {
    if (v.kind != Value::Kind::kBool) return WrongType(file, v, key, "a boolean");
    ep.tls.skip_verify = v.boolean;
    ep.tls_configured = true;
  } else if (key == "ca") {
    for (const std::string& p : BERTH_TRY(Strings(file, v, key)))
      ep.tls.ca_files.push_back(AbsPath(p, dir));
    ep.tls_configured = true;
  } else if (key == "client") {
    ep.tls.client_certs = BERTH_TRY(ClientPairs(file, v, dir));
    ep.tls_configured = true;
  } else if (key == "header") {
    ep.headers = BERTH_TRY(Headers(file, v));
  } else if (key == "override_path") {
    if (v.kind != Value::Kind::kBool) return WrongType(file, v, key, "a boolean");
    override_path = v.boolean;
  } else if (key == "dial_timeout") {
    if (v.kind != Value::Kind::kString) return WrongType(file, v, key, "a string");
    Result<std::chrono::milliseconds> d = ParseGoDuration(v.string, key);
    if (!d.ok()) return FieldError(file, v, key, d.error().str());
    ep.dial_timeout = *d;
  } else {
    BLOG(kWarn) << file << ":" << v.line << ": ignoring unsupported key \"" << key << "\"";
  }
  return Ok();
}

// Sets scheme, host and path from a server or [host] name.
Status SetLocation(std::string_view file, const Value& at, std::string server, bool override_path,
                   Endpoint& ep) {
  if (server.rfind("http", 0) != 0) server = "https://" + server;
  Result<Url> u = Url::Parse(server);
  if (!u.ok()) return FieldError(file, at, "host", u.error().str());
  ep.scheme = u->scheme;
  ep.host = u->Authority();
  std::string path = u->path;
  if (!path.empty()) {
    path = CleanPath(path);
    if (path == "/") path.clear();
  }
  bool has_v2 = path.size() >= 3 && path.compare(path.size() - 3, 3, "/v2") == 0;
  if (!override_path && !has_v2) path += "/v2";
  ep.path = path;
  return Ok();
}

Result<Endpoint> ParseHost(std::string_view file, std::string_view dir, const std::string& name,
                           const Value& table) {
  if (table.kind != Value::Kind::kTable)
    return WrongType(file, table, "host \"" + name + "\"", "a table");
  Endpoint ep;
  bool override_path = false;
  for (size_t i = 0; i < table.table.size(); ++i) {
    BERTH_TRY(ApplyField(file, dir, table.table.keys[i], table.table.values[i], ep, override_path));
  }
  BERTH_TRY(SetLocation(file, table, name, override_path, ep));
  return ep;
}

// Docker's certs.d layout: *.crt are CAs, *.cert (+ *.key) client pairs.
Result<std::vector<Endpoint>> LoadCertFiles(const std::string& dir) {
  Endpoint server;
  server.host.clear();
  for (const std::string& name : BERTH_TRY(ListDir(dir))) {
    std::string path = PathJoin(dir, name);
    auto ends_with = [&name](std::string_view suffix) {
      return name.size() > suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with(".crt")) {
      server.tls.ca_files.push_back(path);
      server.tls_configured = true;
    } else if (ends_with(".cert")) {
      std::string key = PathJoin(dir, name.substr(0, name.size() - 5) + ".key");
      server.tls.client_certs.emplace_back(path, PathExists(key) ? key : "");
      server.tls_configured = true;
    }
  }
  return std::vector<Endpoint>{server};
}

Result<std::vector<Endpoint>> LoadHostDir(const std::string& dir) {
  std::string file = PathJoin(dir, "hosts.toml");
  if (!PathExists(file)) return LoadCertFiles(dir);
  std::string text = BERTH_TRY(ReadFile(file));
  if (Trim(text).empty()) return LoadCertFiles(dir);
  return ParseHostsFile(text, file);
}

// The upstream when no `server` is configured (containerd's defaults).
void FillDefaultServer(const HostsOptions& options, std::string_view registry_host, Endpoint& ep) {
  ep.path = "/v2";
  ep.capabilities = kCapPull | kCapResolve | kCapPush;
  if (registry_host == kDockerHub) {
    ep.scheme = "https";
    ep.host = kDockerHubServer;
    return;
  }
  ep.host = registry_host;
  if (options.plain_http) {
    ep.scheme = "http";
    return;
  }
  if (!IsLoopbackHost(registry_host)) {
    ep.scheme = "https";
    return;
  }
  std::string port = SplitHostPort(registry_host).second;
  // Port 443 (or none) is HTTPS; anything else is ambiguous: HTTPS without
  // verification first, then HTTP. Port 80 is plain HTTP.
  ep.scheme = port.empty() || port == "443" ? "https" : "http";
  if (port != "80") {
    ep.tls.skip_verify = true;
    ep.tls_configured = true;
  }
}

}  // namespace

std::string TlsOptions::Key() const {
  std::string key = skip_verify ? "insecure" : "verify";
  for (const std::string& ca : ca_files)
    key += "|ca=" + ca;
  for (const auto& [cert, k] : client_certs)
    key += "|client=" + cert + "," + k;
  return key;
}

Result<std::chrono::milliseconds> ParseGoDuration(std::string_view text, std::string_view what) {
  auto invalid = [&] {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": invalid duration \"" + std::string(text) + "\"");
  };
  std::string_view s = Trim(text);
  if (s == "0") return std::chrono::milliseconds(0);
  if (s.empty()) return invalid();
  double total_ms = 0;
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.'))
      ++n;
    if (n == 0) return invalid();
    double number = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + n, number);
    if (ec != std::errc() || end != s.data() + n) return invalid();
    s.remove_prefix(n);
    size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.')
      ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    double scale = 0;
    if (unit == "ns") {
      scale = 1e-6;
    } else if (unit == "us" || unit == "\xC2\xB5s") {
      scale = 1e-3;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1e3;
    } else if (unit == "m") {
      scale = 60e3;
    } else if (unit == "h") {
      scale = 3600e3;
    } else {
      return invalid();
    }
    total_ms += number * scale;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

std::vector<std::string> HostDirCandidates(std::string_view hosts_dir,
                                           std::string_view registry_host) {
  std::vector<std::string> out;
  size_t colon = registry_host.rfind(':');
  // "[::1]" has colons but no port.
  bool has_port = colon != std::string_view::npos && colon > 0 &&
                  registry_host.find(']', colon) == std::string_view::npos;
  if (has_port) {
    out.push_back(PathJoin(hosts_dir, std::string(registry_host.substr(0, colon)) + "_" +
                                          std::string(registry_host.substr(colon + 1)) + "_"));
  }
  out.push_back(PathJoin(hosts_dir, registry_host));
  out.push_back(PathJoin(hosts_dir, "_default"));
  return out;
}

Result<std::vector<Endpoint>> ParseHostsFile(std::string_view text, std::string_view file) {
  toml::Table root = BERTH_TRY(toml::Parse(text, file));
  std::string dir = Dirname(file);
  std::vector<Endpoint> out;
  Endpoint server;
  bool override_path = false;
  const Value* server_name = nullptr;
  for (size_t i = 0; i < root.size(); ++i) {
    const std::string& key = root.keys[i];
    const Value& v = root.values[i];
    if (key == "host") {
      if (v.kind != Value::Kind::kTable) return WrongType(file, v, "host", "a table");
      for (size_t h = 0; h < v.table.size(); ++h)
        out.push_back(BERTH_TRY(ParseHost(file, dir, v.table.keys[h], v.table.values[h])));
    } else if (key == "server") {
      if (v.kind != Value::Kind::kString) return WrongType(file, v, key, "a string");
      server_name = &v;
    } else {
      BERTH_TRY(ApplyField(file, dir, key, v, server, override_path));
    }
  }
  if (server_name != nullptr && !server_name->string.empty()) {
    BERTH_TRY(SetLocation(file, *server_name, server_name->string, override_path, server));
  } else {
    server.host.clear();  // filled in with the registry's default
  }
  out.push_back(std::move(server));
  return out;
}

Result<std::vector<Endpoint>> ConfigureEndpoints(const HostsOptions& options,
                                                 std::string_view registry_host) {
  if (registry_host.empty())
    return Error(Errc::kInvalidArgument, "registry hosts: empty registry host");
  std::vector<Endpoint> hosts;
  bool found = false;
  if (!options.hosts_dir.empty()) {
    for (const std::string& dir : HostDirCandidates(options.hosts_dir, registry_host)) {
      if (!PathExists(dir)) continue;
      hosts = BERTH_TRY(LoadHostDir(dir));
      found = true;
      break;
    }
  }
  if (!found) hosts.emplace_back().host.clear();
  if (hosts.back().host.empty()) FillDefaultServer(options, registry_host, hosts.back());

  bool global_tls = options.skip_verify || !options.ca_file.empty();
  for (Endpoint& ep : hosts) {
    if (options.skip_verify) ep.tls.skip_verify = true;
    if (!options.ca_file.empty()) ep.tls.ca_files.insert(ep.tls.ca_files.begin(), options.ca_file);
    // containerd: an http host with TLS settings is ambiguous; prefer HTTPS.
    if (ep.scheme == "http" && (global_tls || ep.tls_configured) &&
        SplitHostPort(ep.host).second != "80") {
      ep.scheme = "https";
      ep.http_fallback = true;
    }
  }
  return hosts;
}

}  // namespace berth::image::registry
