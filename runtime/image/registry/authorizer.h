#pragma once
// Registry authentication (the distribution token spec and RFC 7617):
//
//   1. A request goes out with whatever this host needed before (nothing
//      the first time).
//   2. On 401, OnUnauthorized reads WWW-Authenticate. Bearer: remember the
//      realm and service; Basic: remember that the host wants a password.
//   3. Authorize then yields the header: "Basic base64(user:pass)", or
//      "Bearer <token>" with a token fetched from the realm
//      (GET ?service=...&scope=repository:<path>:pull, with Basic
//      credentials when there are some; an identity token is exchanged by
//      an OAuth2 refresh_token POST; a registry token is used as is).
//      Tokens are cached per (host, scope) until they expire.
//   4. The request is retried once; a second 401 means the credentials
//      were rejected (RejectedError).
//
// Thread-safe.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/error.h"
#include "runtime/image/registry/credentials.h"
#include "runtime/image/registry/hosts.h"
#include "runtime/image/registry/http_client.h"

namespace berth::image::registry {

// "repository:<path>:pull"
std::string PullScope(std::string_view repository_path);

class Authorizer {
 public:
  Authorizer(HttpClient& http, CredentialsFn credentials);

  // The Authorization header for a request to `ep` needing `scope`, "" when
  // the host has not asked for any. May fetch a token.
  Result<std::string> Authorize(const Endpoint& ep, const std::string& scope);

  // Learns from a 401 `resp`; `sent` is the Authorization that was sent
  // ("" for none). An error when the challenge cannot be answered (no
  // credentials for Basic, unsupported scheme).
  Status OnUnauthorized(const Endpoint& ep, const std::string& scope, const HttpResponse& resp,
                        const std::string& sent);

  // The error for a 401 that survived a retry: "401 Unauthorized from <url>:
  // invalid credentials", or "authentication required" without credentials.
  Error RejectedError(const Endpoint& ep, const HttpResponse& resp);

 private:
  struct HostAuth {
    enum class Scheme { kBasic, kBearer } scheme = Scheme::kBearer;
    std::string realm;
    std::string service;
    std::string challenge_scope;  // the scope the registry named, if any
  };
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };

  Result<std::optional<AuthConfig>> Credentials(const std::string& host);
  Result<Token> FetchToken(const Endpoint& ep, const HostAuth& how, const std::string& scope);

  HttpClient& http_;
  CredentialsFn credentials_;
  std::mutex mu_;
  std::map<std::string, HostAuth> hosts_;                        // by endpoint host
  std::map<std::pair<std::string, std::string>, Token> tokens_;  // by (host, scope)
};

}  // namespace berth::image::registry
