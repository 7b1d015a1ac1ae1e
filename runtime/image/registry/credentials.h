#pragma once
// Registry credentials: the CRI AuthConfig a kubelet passes with a pull, and
// Docker's config.json (`auths` keyed by registry host or by URL, such as
// "https://index.docker.io/v1/" for Docker Hub).
//
// Credentials are looked up for the host actually contacted (an endpoint:
// the upstream server or a mirror), never sent to a host they were not
// given for.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::image::registry {

// Mirrors runtime.v1.AuthConfig.
struct AuthConfig {
  std::string username;
  std::string password;
  std::string auth;  // base64("username:password"), used when username is empty
  std::string server_address;
  std::string identity_token;  // OAuth2 refresh token, exchanged at the token realm
  std::string registry_token;  // a bearer token, sent as is

  bool empty() const {
    return username.empty() && password.empty() && auth.empty() && identity_token.empty() &&
           registry_token.empty();
  }
  bool has_password() const { return !username.empty() || !password.empty(); }
};

// Decodes `auth` into username and password (when username is empty).
// Errors name `what`.
Result<AuthConfig> NormalizeAuth(AuthConfig a, std::string_view what);

// The host a credentials key or server address names: scheme and path
// dropped, lowercased, Docker Hub's aliases (index.docker.io,
// registry-1.docker.io, registry.hub.docker.com) folded into "docker.io".
std::string NormalizeRegistryHost(std::string_view key);

class DockerConfig {
 public:
  // Parses config.json text; errors name `what` and the field.
  static Result<DockerConfig> Parse(std::string_view json, std::string_view what);
  // A missing file is an empty configuration.
  static Result<DockerConfig> Load(const std::string& path);

  // The entry for `host` (any alias normalizing to the same host).
  std::optional<AuthConfig> Find(std::string_view host) const;
  size_t size() const { return auths_.size(); }

 private:
  std::vector<std::pair<std::string, AuthConfig>> auths_;  // normalized host -> auth
};

// Credentials for the host about to be contacted; nullopt means anonymous.
using CredentialsFn = std::function<Result<std::optional<AuthConfig>>(std::string_view host)>;

// For a pull from `registry_domain`: `given` (e.g. the CRI request's auth)
// applies to that registry's hosts (its domain, its server_address if set,
// and Docker Hub's aliases for docker.io); every host may also be found in
// `config`. Either may be absent.
CredentialsFn MakeCredentials(const std::string& registry_domain, std::optional<AuthConfig> given,
                              const std::shared_ptr<const DockerConfig>& config);

}  // namespace berth::image::registry
