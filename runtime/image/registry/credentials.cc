#include "runtime/image/registry/credentials.h"

#include <cctype>

#include "common/base64.h"
#include "common/file.h"
#include "common/json.h"

namespace berth::image::registry {

namespace {

Result<AuthConfig> ParseEntry(const std::string& key, const json::Field& f) {
  BERTH_TRY(f.ExpectObject());
  AuthConfig a;
  a.auth = BERTH_TRY(f["auth"].OptString()).value_or("");
  a.username = BERTH_TRY(f["username"].OptString()).value_or("");
  a.password = BERTH_TRY(f["password"].OptString()).value_or("");
  a.identity_token = BERTH_TRY(f["identitytoken"].OptString()).value_or("");
  a.registry_token = BERTH_TRY(f["registrytoken"].OptString()).value_or("");
  a.server_address = key;
  return NormalizeAuth(std::move(a), f.path());
}

}  // namespace

Result<AuthConfig> NormalizeAuth(AuthConfig a, std::string_view what) {
  if (a.username.empty() && !a.auth.empty()) {
    std::optional<std::string> decoded = Base64Decode(a.auth);
    if (!decoded)
      return Error(Errc::kInvalidArgument, std::string(what) + ": auth is not valid base64");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) {
      return Error(Errc::kInvalidArgument,
                   std::string(what) + ": auth does not decode to \"username:password\"");
    }
    a.username = decoded->substr(0, colon);
    a.password = decoded->substr(colon + 1);
  }
  return a;
}

std::string NormalizeRegistryHost(std::string_view key) {
  if (size_t sep = key.find("://"); sep != std::string_view::npos) key = key.substr(sep + 3);
  key = key.substr(0, key.find('/'));
  std::string host;
  for (char c : key)
    host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "index.docker.io" || host == "registry-1.docker.io" ||
      host == "registry.hub.docker.com") {
    return "docker.io";
  }
  return host;
}

Result<DockerConfig> DockerConfig::Parse(std::string_view text, std::string_view what) {
  json::bj::value doc = BERTH_TRY(json::Parse(text, what));
  json::Field root(&doc, "");
  DockerConfig config;
  auto members = root["auths"].Members();
  if (!members.ok()) return std::move(members).error().Wrap(std::string(what));
  for (const auto& [key, field] : *members) {
    Result<AuthConfig> entry = ParseEntry(key, field);
    if (!entry.ok()) return std::move(entry).error().Wrap(std::string(what));
    config.auths_.emplace_back(NormalizeRegistryHost(key), std::move(*entry));
  }
  return config;
}

Result<DockerConfig> DockerConfig::Load(const std::string& path) {
  if (!PathExists(path)) return DockerConfig();
  std::string text = BERTH_TRY(ReadFile(path));
  return Parse(text, path);
}

std::optional<AuthConfig> DockerConfig::Find(std::string_view host) const {
  std::string want = NormalizeRegistryHost(host);
  for (const auto& [key, auth] : auths_) {
    if (key == want && !auth.empty()) return auth;
  }
  return std::nullopt;
}

CredentialsFn MakeCredentials(const std::string& registry_domain, std::optional<AuthConfig> given,
                              const std::shared_ptr<const DockerConfig>& config) {
  std::optional<AuthConfig> normalized;
  std::optional<Error> bad;
  if (given && !given->empty()) {
    Result<AuthConfig> n = NormalizeAuth(*given, "credentials for " + registry_domain);
    if (n.ok()) {
      normalized = std::move(*n);
    } else {
      bad = std::move(n).error();
    }
  }
  std::string own = NormalizeRegistryHost(normalized && !normalized->server_address.empty()
                                              ? normalized->server_address
                                              : registry_domain);
  return
      [own, normalized, bad, config](std::string_view host) -> Result<std::optional<AuthConfig>> {
        std::string h = NormalizeRegistryHost(host);
        if (h == own) {
          if (bad) return *bad;
          if (normalized) return normalized;
        }
        if (config) return config->Find(h);
        return std::optional<AuthConfig>();
      };
}

}  // namespace berth::image::registry
