#include "controlplane/server/authn.h"

#include <cctype>

#include "common/base64.h"
#include "common/strings.h"
#include "common/time.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/resources.h"
#include "controlplane/server/auth/service_account_token.h"
#include "controlplane/server/registry/call.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;

// The token of an "Authorization: Bearer <token>" header ("" if none); the
// scheme is case-insensitive, as kube-apiserver reads it.
std::string BearerToken(const http::Request& request) {
  std::string value = request.Header("authorization");
  if (value.size() < 7) return "";
  std::string scheme = value.substr(0, 7);
  for (char& c : scheme)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return "";
  size_t start = value.find_first_not_of(' ', 7);
  if (start == std::string::npos) return "";
  size_t end = value.find_last_not_of(' ');
  return value.substr(start, end - start + 1);
}

std::optional<bj::object> Read(storage::Store& store, const char* group, const char* resource,
                               const std::string& ns, const std::string& name) {
  Result<std::optional<bj::object>> obj =
      registry::ReadObject(store, *api::FindResource(group, "v1", resource), ns, name);
  return obj.ok() ? std::move(*obj) : std::nullopt;
}

bool IsLowerAlnum(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

std::string SecretValue(const bj::object& secret, std::string_view key) {
  std::string encoded = api::LookupString(secret, {"data", key});
  return Base64Decode(encoded).value_or("");
}

}  // namespace

Authenticator::Authenticator(const TokenFile* tokens,
                             const auth::ServiceAccountTokens* service_accounts,
                             storage::Store* store, std::vector<std::string> audiences)
    : tokens_(tokens),
      service_accounts_(service_accounts),
      store_(store),
      audiences_(std::move(audiences)) {}

std::optional<UserInfo> Authenticator::Authenticate(const http::Request& request) const {
  if (request.peer.verified && !request.peer.common_name.empty()) {
    UserInfo user{request.peer.common_name, "", request.peer.organizations, {}};
    user.groups.emplace_back("system:authenticated");
    return user;
  }
  std::string token = BearerToken(request);
  if (token.empty()) return std::nullopt;
  return AuthenticateToken(token);
}

std::optional<UserInfo> Authenticator::AuthenticateToken(
    const std::string& token, const std::vector<std::string>& audiences) const {
  if (tokens_ != nullptr) {
    if (std::optional<TokenUser> found = tokens_->Lookup(token)) {
      UserInfo user{found->name, found->uid, found->groups, {}};
      user.groups.emplace_back("system:authenticated");
      return user;
    }
  }
  if (std::count(token.begin(), token.end(), '.') == 2) {
    return ServiceAccount(token, audiences.empty() ? audiences_ : audiences);
  }
  return BootstrapToken(token);
}

std::optional<UserInfo> Authenticator::ServiceAccount(
    const std::string& token, const std::vector<std::string>& audiences) const {
  if (service_accounts_ == nullptr || store_ == nullptr) return std::nullopt;
  Result<auth::ServiceAccountClaims> claims = service_accounts_->Verify(token, audiences);
  if (!claims.ok()) return std::nullopt;
  // The token dies with what it is bound to.
  std::optional<bj::object> sa =
      Read(*store_, "", "serviceaccounts", claims->namespace_, claims->name);
  if (!sa || (!claims->uid.empty() && api::LookupString(*sa, {"metadata", "uid"}) != claims->uid)) {
    return std::nullopt;
  }
  UserInfo user;
  user.name = auth::ServiceAccountUser(claims->namespace_, claims->name);
  user.uid = api::LookupString(*sa, {"metadata", "uid"});
  user.groups = {"system:serviceaccounts", "system:serviceaccounts:" + claims->namespace_,
                 "system:authenticated"};
  if (!claims->pod_name.empty()) {
    std::optional<bj::object> pod = Read(*store_, "", "pods", claims->namespace_, claims->pod_name);
    if (!pod || api::LookupString(*pod, {"metadata", "uid"}) != claims->pod_uid)
      return std::nullopt;
    user.extra["authentication.kubernetes.io/pod-name"] = {claims->pod_name};
    user.extra["authentication.kubernetes.io/pod-uid"] = {claims->pod_uid};
  }
  if (!claims->secret_name.empty()) {
    std::optional<bj::object> secret =
        Read(*store_, "", "secrets", claims->namespace_, claims->secret_name);
    if (!secret || api::LookupString(*secret, {"metadata", "uid"}) != claims->secret_uid) {
      return std::nullopt;
    }
  }
  if (!claims->id.empty())
    user.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" + claims->id};
  return user;
}

std::optional<UserInfo> Authenticator::BootstrapToken(const std::string& token) const {
  // <id>.<secret>: 6 and 16 characters of [a-z0-9].
  if (store_ == nullptr || token.size() != 23 || token[6] != '.') return std::nullopt;
  std::string id = token.substr(0, 6);
  std::string secret_part = token.substr(7);
  if (!IsLowerAlnum(id) || !IsLowerAlnum(secret_part)) return std::nullopt;
  std::optional<bj::object> secret =
      Read(*store_, "", "secrets", "kube-system", "bootstrap-token-" + id);
  if (!secret || api::LookupString(*secret, {"type"}) != "bootstrap.kubernetes.io/token") {
    return std::nullopt;
  }
  if (api::Lookup(*secret, {"metadata", "deletionTimestamp"}) != nullptr) return std::nullopt;
  if (SecretValue(*secret, "token-id") != id ||
      SecretValue(*secret, "token-secret") != secret_part ||
      SecretValue(*secret, "usage-bootstrap-authentication") != "true") {
    return std::nullopt;
  }
  if (std::string expiration = SecretValue(*secret, "expiration"); !expiration.empty()) {
    time_t at = api::ParseRfc3339(expiration);
    if (at < 0 || WallClockNow().tv_sec >= at) return std::nullopt;
  }
  UserInfo user;
  user.name = "system:bootstrap:" + id;
  user.groups = {"system:bootstrappers"};
  for (const std::string& g : Split(SecretValue(*secret, "auth-extra-groups"), ',')) {
    std::string group(Trim(g));
    if (group.starts_with("system:bootstrappers:")) user.groups.push_back(group);
  }
  user.groups.emplace_back("system:authenticated");
  return user;
}

}  // namespace berth::controlplane
