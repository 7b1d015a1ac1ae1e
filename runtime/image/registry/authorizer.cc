#include "runtime/image/registry/authorizer.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strings.h"
#include "runtime/image/registry/registry_error.h"
#include "runtime/image/registry/www_authenticate.h"

namespace berth::image::registry {
namespace {

using Clock = std::chrono::steady_clock;

// The token spec: tokens live 60 s when the server does not say.
constexpr int64_t kDefaultTokenSeconds = 60;
constexpr size_t kMaxTokenResponse = 1 << 20;

std::string BasicHeader(const AuthConfig& a) {
  return "Basic " + Base64Encode(a.username + ":" + a.password);
}

// Scopes to ask for: ours, and the registry's own if it named another.
std::vector<std::string> Scopes(const std::string& ours, const std::string& challenge) {
  std::vector<std::string> out{ours};
  for (const std::string& s : SplitNonEmpty(challenge, ' ')) {
    if (s != ours) out.push_back(s);
  }
  return out;
}

}  // namespace

std::string PullScope(std::string_view repository_path) {
  return "repository:" + std::string(repository_path) + ":pull";
}

Authorizer::Authorizer(HttpClient& http, CredentialsFn credentials)
    : http_(http), credentials_(std::move(credentials)) {}

Result<std::optional<AuthConfig>> Authorizer::Credentials(const std::string& host) {
  if (!credentials_) return std::optional<AuthConfig>();
  return credentials_(host);
}

Result<std::string> Authorizer::Authorize(const Endpoint& ep, const std::string& scope) {
  HostAuth how;
  {
    std::lock_guard lock(mu_);
    auto it = hosts_.find(ep.host);
    if (it == hosts_.end()) return std::string();
    how = it->second;
    if (how.scheme == HostAuth::Scheme::kBearer) {
      auto tok = tokens_.find({ep.host, scope});
      if (tok != tokens_.end() && tok->second.expires > Clock::now())
        return "Bearer " + tok->second.value;
    }
  }
  if (how.scheme == HostAuth::Scheme::kBasic) {
    std::optional<AuthConfig> creds = BERTH_TRY(Credentials(ep.host));
    if (!creds || !creds->has_password()) return std::string();
    return BasicHeader(*creds);
  }
  Token token = BERTH_TRY(FetchToken(ep, how, scope));
  std::lock_guard lock(mu_);
  tokens_[{ep.host, scope}] = token;
  return "Bearer " + token.value;
}

Status Authorizer::OnUnauthorized(const Endpoint& ep, const std::string& scope,
                                  const HttpResponse& resp, const std::string& sent) {
  std::vector<std::string> headers = resp.headers.GetAll("WWW-Authenticate");
  Result<std::vector<Challenge>> parsed = ParseWwwAuthenticate(headers);
  if (!parsed.ok()) return StatusError(resp, parsed.error().str());
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const Challenge& c : *parsed) {
    if (c.scheme == "bearer" && bearer == nullptr) bearer = &c;
    if (c.scheme == "basic" && basic == nullptr) basic = &c;
  }
  std::lock_guard lock(mu_);
  tokens_.erase({ep.host, scope});  // whatever we sent, it did not do
  if (bearer != nullptr) {
    HostAuth how;
    how.realm = bearer->Param("realm");
    how.service = bearer->Param("service");
    how.challenge_scope = bearer->Param("scope");
    if (how.realm.empty()) return StatusError(resp, "Bearer challenge without a realm");
    hosts_[ep.host] = how;
    return Ok();
  }
  if (basic != nullptr) {
    HostAuth how;
    how.scheme = HostAuth::Scheme::kBasic;
    hosts_[ep.host] = how;
    return Ok();
  }
  if (headers.empty()) return StatusError(resp, "no WWW-Authenticate challenge");
  return StatusError(resp, "unsupported authentication scheme in \"" + Join(headers, ", ") + "\"");
}

Error Authorizer::RejectedError(const Endpoint& ep, const HttpResponse& resp) {
  Result<std::optional<AuthConfig>> creds = Credentials(ep.host);
  if (creds.ok() && *creds && !(*creds)->empty()) return StatusError(resp, "invalid credentials");
  std::string detail = DescribeErrorBody(resp.body);
  return StatusError(resp, "authentication required (no credentials for " + ep.host + ")" +
                               (detail.empty() ? "" : ": " + detail));
}

Result<Authorizer::Token> Authorizer::FetchToken(const Endpoint& ep, const HostAuth& how,
                                                 const std::string& scope) {
  std::optional<AuthConfig> creds = BERTH_TRY(Credentials(ep.host));
  if (creds && !creds->registry_token.empty()) {
    return Token{creds->registry_token, Clock::time_point::max()};
  }
  Result<Url> realm = Url::Parse(how.realm);
  if (!realm.ok()) return std::move(realm).error().Wrap("token realm of " + ep.host);
  std::vector<std::string> scopes = Scopes(scope, how.challenge_scope);

  HttpRequest req;
  req.url = *realm;
  req.tls = ep.tls;
  req.max_body = kMaxTokenResponse;
  req.dial_timeout = ep.dial_timeout;
  bool sent_credentials = false;
  std::vector<std::pair<std::string, std::string>> params;
  if (creds && !creds->identity_token.empty()) {
    // OAuth2: exchange the refresh token (the token spec's POST form).
    req.method = "POST";
    params = {{"grant_type", "refresh_token"},
              {"refresh_token", creds->identity_token},
              {"client_id", "berth"},
              {"scope", Join(scopes, " ")}};
    if (!how.service.empty()) params.emplace_back("service", how.service);
    req.body = EncodeQuery(params);
    req.headers.Set("Content-Type", "application/x-www-form-urlencoded");
    sent_credentials = true;
  } else {
    if (!how.service.empty()) params.emplace_back("service", how.service);
    for (const std::string& s : scopes)
      params.emplace_back("scope", s);
    std::string query = EncodeQuery(params);
    req.url.query = req.url.query.empty() ? query : req.url.query + "&" + query;
    if (creds && creds->has_password()) {
      req.headers.Set("Authorization", BasicHeader(*creds));
      sent_credentials = true;
    }
  }
  BLOG(kDebug) << "fetching token for " << ep.host << " scope " << Join(scopes, " ") << " from "
               << req.url.String();
  HttpResponse resp = BERTH_TRY_CTX(http_.Do(req), "token for " + ep.host);
  if (resp.status == 401 || resp.status == 403) {
    return StatusError(
        resp, sent_credentials ? "invalid credentials" : "token server refused anonymous access");
  }
  if (!resp.ok()) return StatusError(resp);

  Result<json::bj::value> doc = json::Parse(resp.body, "token response from " + how.realm);
  if (!doc.ok()) return std::move(doc).error();
  json::Field root(&*doc, "");
  auto read = [&]() -> Result<Token> {
    Token t;
    t.value = BERTH_TRY(root["token"].OptString()).value_or("");
    if (t.value.empty()) t.value = BERTH_TRY(root["access_token"].OptString()).value_or("");
    if (t.value.empty()) return root["token"].Invalid("neither token nor access_token is set");
    int64_t seconds =
        BERTH_TRY(root["expires_in"].OptInt<int64_t>()).value_or(kDefaultTokenSeconds);
    if (seconds <= 0) seconds = kDefaultTokenSeconds;
    // Renew a little early so a token does not expire in flight.
    t.expires = Clock::now() + std::chrono::seconds(seconds > 20 ? seconds - 10 : seconds);
    return t;
  };
  Result<Token> token = read();
  if (!token.ok()) return std::move(token).error().Wrap("token response from " + how.realm);
  return token;
}

}  // namespace berth::image::registry
