#include "agent/server/auth.h"

#include <algorithm>

#include "common/strings.h"
#include "controlplane/client/api_client.h"

namespace berth::agent::kubelet {
namespace {

namespace bj = boost::json;

constexpr const char* kAuthenticated = "system:authenticated";

std::string StringAt(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

const bj::object* ObjectAt(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

std::vector<std::string> Strings(const bj::value* v) {
  std::vector<std::string> out;
  if (v == nullptr || !v->is_array()) return out;
  for (const bj::value& s : v->as_array())
    if (s.is_string()) out.emplace_back(s.as_string());
  return out;
}

// The bearer token of an Authorization header, "" when there is none
// (upstream's bearertoken authenticator: "Bearer <token>", scheme
// case-insensitive).
std::string BearerToken(const std::string& header) {
  std::vector<std::string> parts = Split(Trim(header), ' ');
  if (parts.size() < 2) return "";
  std::string scheme = parts[0];
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return scheme == "bearer" ? parts[1] : "";
}

void AddAuthenticatedGroup(UserInfo& u) {
  if (std::find(u.groups.begin(), u.groups.end(), kAuthenticated) == u.groups.end()) {
    u.groups.emplace_back(kAuthenticated);
  }
}

}  // namespace

ReviewPoster ReviewPosterFor(controlplane::client::ApiClient& api) {
  return [&api](const std::string& path, const bj::object& body) -> Result<bj::object> {
    Result<controlplane::client::ApiResponse> r = api.Do("POST", path, bj::serialize(body));
    if (!r.ok()) return std::move(r).error().Wrap("POST " + path);
    bj::value json = r->Json();
    if (r->status != 200 && r->status != 201) {
      std::string message = json.is_object() ? StringAt(json.as_object(), "message") : r->body;
      return Error(r->status == 403 ? Errc::kPermissionDenied : Errc::kUnavailable,
                   "POST " + path + ": HTTP " + std::to_string(r->status) + ": " + message);
    }
    if (!json.is_object())
      return Error(Errc::kInternal, "POST " + path + ": the answer is not JSON");
    return std::move(json.as_object());
  };
}

AuthnResult Authenticator::Authenticate(const PeerCertificate& peer,
                                        const std::string& authorization) const {
  std::vector<std::string> failures;
  if (config_.x509 && peer.presented) {
    if (!peer.verified) {
      failures.push_back("client certificate: " + peer.verify_error);
    } else if (!peer.common_name.empty()) {
      UserInfo u{peer.common_name, "", peer.organizations, {}};
      AddAuthenticatedGroup(u);
      return {u, ""};
    }
  }
  std::string token = config_.webhook ? BearerToken(authorization) : "";
  if (!token.empty()) {
    Result<Review> review = ReviewToken(token);
    if (!review.ok()) {
      failures.push_back(review.error().str());
    } else if (!review->authenticated) {
      failures.push_back(review->error.empty() ? "invalid bearer token" : review->error);
    } else {
      UserInfo u = review->user;
      AddAuthenticatedGroup(u);
      return {u, ""};
    }
  }
  // A credential that failed is a 401 even when anonymous requests are
  // allowed (upstream's union authenticator fails on error).
  if (!failures.empty()) return {std::nullopt, Join(failures, "; ")};
  if (config_.anonymous)
    return {UserInfo{"system:anonymous", "", {"system:unauthenticated"}, {}}, ""};
  return {std::nullopt, "no credentials"};
}

Result<Authenticator::Review> Authenticator::ReviewToken(const std::string& token) const {
  if (std::optional<Review> cached = cache_.Get(token)) return *cached;
  bj::object body{{"apiVersion", "authentication.k8s.io/v1"},
                  {"kind", "TokenReview"},
                  {"spec", bj::object{{"token", token}}}};
  bj::object answer = BERTH_TRY(poster_("/apis/authentication.k8s.io/v1/tokenreviews", body));
  Review r;
  if (const bj::object* status = ObjectAt(answer, "status")) {
    const bj::value* ok = status->if_contains("authenticated");
    r.authenticated = ok != nullptr && ok->is_bool() && ok->as_bool();
    r.error = StringAt(*status, "error");
    if (const bj::object* user = ObjectAt(*status, "user")) {
      r.user.name = StringAt(*user, "username");
      r.user.uid = StringAt(*user, "uid");
      r.user.groups = Strings(user->if_contains("groups"));
      if (const bj::object* extra = ObjectAt(*user, "extra")) {
        for (const auto& [key, values] : *extra)
          r.user.extra[std::string(key)] = Strings(&values);
      }
    }
  }
  cache_.Put(token, r, config_.cache_ttl);
  return r;
}

bj::object SubjectAccessReviewFor(const Attributes& a) {
  bj::object resource{{"verb", a.verb}, {"version", "v1"}, {"resource", a.resource}};
  if (!a.subresource.empty()) resource["subresource"] = a.subresource;
  if (!a.name.empty()) resource["name"] = a.name;
  bj::array groups;
  for (const std::string& g : a.user.groups)
    groups.emplace_back(g);
  bj::object spec{{"resourceAttributes", std::move(resource)},
                  {"user", a.user.name},
                  {"groups", std::move(groups)}};
  if (!a.user.uid.empty()) spec["uid"] = a.user.uid;
  if (!a.user.extra.empty()) {
    bj::object extra;
    for (const auto& [key, values] : a.user.extra) {
      bj::array list;
      for (const std::string& v : values)
        list.emplace_back(v);
      extra[key] = std::move(list);
    }
    spec["extra"] = std::move(extra);
  }
  return bj::object{{"apiVersion", "authorization.k8s.io/v1"},
                    {"kind", "SubjectAccessReview"},
                    {"spec", std::move(spec)}};
}

Result<bool> Authorizer::Authorize(const Attributes& a) const {
  if (mode_ == AuthzMode::kAlwaysAllow) return true;
  bj::object review = SubjectAccessReviewFor(a);
  std::string key = bj::serialize(review.at("spec"));
  if (std::optional<bool> cached = cache_.Get(key)) return *cached;
  bj::object answer =
      BERTH_TRY(poster_("/apis/authorization.k8s.io/v1/subjectaccessreviews", review));
  bool allowed = false;
  if (const bj::object* status = ObjectAt(answer, "status")) {
    const bj::value* v = status->if_contains("allowed");
    allowed = v != nullptr && v->is_bool() && v->as_bool();
  }
  cache_.Put(key, allowed, allowed ? allowed_ttl_ : denied_ttl_);
  return allowed;
}

}  // namespace berth::agent::kubelet
