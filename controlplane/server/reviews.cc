#include "controlplane/server/reviews.h"

#include <algorithm>

#include "common/time.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/validation.h"
#include "controlplane/server/auth/rbac.h"
#include "controlplane/server/registry/meta.h"
#include "controlplane/server/registry/rest.h"

namespace berth::controlplane {
namespace {

namespace bj = boost::json;

constexpr int64_t kDefaultTokenSeconds = 3600;
constexpr int64_t kMinTokenSeconds = 600;

bj::object UserJson(const UserInfo& user) {
  bj::array groups;
  for (const std::string& g : user.groups)
    groups.emplace_back(g);
  bj::object out{{"username", user.name}, {"groups", std::move(groups)}};
  if (!user.uid.empty()) out["uid"] = user.uid;
  if (!user.extra.empty()) {
    bj::object extra;
    for (const auto& [key, values] : user.extra) {
      bj::array list;
      for (const std::string& v : values)
        list.emplace_back(v);
      extra[key] = std::move(list);
    }
    out["extra"] = std::move(extra);
  }
  return out;
}

std::vector<std::string> Strings(const bj::object& o,
                                 std::initializer_list<std::string_view> path) {
  std::vector<std::string> out;
  const bj::value* v = api::Lookup(o, path);
  if (v != nullptr && v->is_array()) {
    for (const bj::value& s : v->as_array())
      if (s.is_string()) out.emplace_back(s.as_string());
  }
  return out;
}

bj::array RuleList(const std::vector<bj::object>& rules, bool resource) {
  bj::array out;
  for (const bj::object& r : rules) {
    bool has_urls = r.contains("nonResourceURLs");
    if (has_urls == resource) continue;
    out.push_back(r);
  }
  return out;
}

}  // namespace

auth::Attributes AttributesOf(const bj::object& spec, const UserInfo& user) {
  auth::Attributes a;
  a.user = user;
  if (const bj::value* r = spec.if_contains("resourceAttributes"); r && r->is_object()) {
    const bj::object& ra = r->as_object();
    a.resource_request = true;
    a.verb = api::LookupString(ra, {"verb"});
    a.group = api::LookupString(ra, {"group"});
    a.resource = api::LookupString(ra, {"resource"});
    a.subresource = api::LookupString(ra, {"subresource"});
    a.namespace_ = api::LookupString(ra, {"namespace"});
    a.name = api::LookupString(ra, {"name"});
  } else if (const bj::value* n = spec.if_contains("nonResourceAttributes"); n && n->is_object()) {
    a.resource_request = false;
    a.verb = api::LookupString(n->as_object(), {"verb"});
    a.path = api::LookupString(n->as_object(), {"path"});
  }
  return a;
}

bool Reviews::Handles(const api::RequestInfo& info) {
  if (info.verb != "create") return false;
  if (info.group.empty() && info.resource == "serviceaccounts" && info.subresource == "token") {
    return true;
  }
  if (info.group == "authentication.k8s.io") {
    return info.resource == "tokenreviews" || info.resource == "selfsubjectreviews";
  }
  if (info.group == "authorization.k8s.io") {
    return info.resource == "subjectaccessreviews" || info.resource == "selfsubjectaccessreviews" ||
           info.resource == "localsubjectaccessreviews" ||
           info.resource == "selfsubjectrulesreviews";
  }
  return false;
}

void Reviews::Serve(const UserInfo& user, registry::Call& c) {
  registry::ApiResult<bj::object> body = c.BodyObject();
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&body)) return c.Fail(*e);
  std::optional<api::ApiStatus> error;  // set by a failing review
  bj::object out = c.info.subresource == "token"
                       ? TokenRequest(c, std::get<bj::object>(body), error)
                       : Review(user, c, std::get<bj::object>(body), error);
  if (error) return c.Fail(*error);
  c.ReplyJson(201, out);
}

bj::object Reviews::Review(const UserInfo& user, registry::Call& c, const bj::object& body,
                           std::optional<api::ApiStatus>& error) {
  const std::string& r = c.info.resource;
  bj::object out = body;
  out["apiVersion"] = c.info.group + "/v1";
  if (!out.contains("metadata")) out["metadata"] = bj::object();
  bj::object spec = api::Lookup(body, {"spec"}) && body.at("spec").is_object()
                        ? body.at("spec").as_object()
                        : bj::object();
  if (r == "selfsubjectreviews") {
    out["kind"] = "SelfSubjectReview";
    out["status"] = bj::object{{"userInfo", UserJson(user)}};
    return out;
  }
  if (r == "tokenreviews") {
    out["kind"] = "TokenReview";
    std::string token = api::LookupString(spec, {"token"});
    std::vector<std::string> audiences = Strings(spec, {"audiences"});
    std::optional<UserInfo> who = authenticator_.AuthenticateToken(token, audiences);
    bj::object status{{"authenticated", who.has_value()}};
    if (who) {
      status["user"] = UserJson(*who);
      bj::array aud;
      for (const std::string& a : audiences.empty() ? authenticator_.audiences() : audiences)
        aud.emplace_back(a);
      status["audiences"] = std::move(aud);
    } else {
      status["error"] = "invalid bearer token";
    }
    out["status"] = std::move(status);
    return out;
  }
  if (r == "selfsubjectrulesreviews") {
    out["kind"] = "SelfSubjectRulesReview";
    out["status"] = RulesReview(user, api::LookupString(spec, {"namespace"}));
    return out;
  }
  UserInfo subject = user;
  if (r == "subjectaccessreviews" || r == "localsubjectaccessreviews") {
    subject = UserInfo{api::LookupString(spec, {"user"}),
                       api::LookupString(spec, {"uid"}),
                       Strings(spec, {"groups"}),
                       {}};
    if (subject.name.empty() && subject.groups.empty()) {
      api::FieldErrors errors;
      errors.Invalid("spec.user", bj::string(""),
                     "at least one of user or group must be specified");
      error = api::InvalidStatus(c.info.group, "SubjectAccessReview", "", errors.causes());
      return out;
    }
  }
  auth::Attributes a = AttributesOf(spec, subject);
  if (r == "localsubjectaccessreviews") {
    if (a.namespace_ != c.info.namespace_) {
      api::FieldErrors errors;
      errors.Invalid("spec.resourceAttributes.namespace", bj::string(a.namespace_),
                     "must match metadata.namespace");
      error = api::InvalidStatus(c.info.group, "LocalSubjectAccessReview", "", errors.causes());
      return out;
    }
  }
  if (a.verb.empty()) {
    api::FieldErrors errors;
    errors.Required("spec.resourceAttributes",
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified");
    error = api::InvalidStatus(c.info.group, "SubjectAccessReview", "", errors.causes());
    return out;
  }
  auth::Verdict v = authorizer_.Authorize(a);
  bj::object status{{"allowed", v.decision == auth::Decision::kAllow}};
  if (v.decision == auth::Decision::kDeny) status["denied"] = true;
  if (!v.reason.empty()) status["reason"] = v.reason;
  out["status"] = std::move(status);
  static const std::map<std::string, std::string> kKinds = {
      {"subjectaccessreviews", "SubjectAccessReview"},
      {"selfsubjectaccessreviews", "SelfSubjectAccessReview"},
      {"localsubjectaccessreviews", "LocalSubjectAccessReview"}};
  out["kind"] = kKinds.at(r);
  return out;
}

bj::object Reviews::RulesReview(const UserInfo& user, const std::string& ns) {
  if (std::find(user.groups.begin(), user.groups.end(), "system:masters") != user.groups.end()) {
    return bj::object{
        {"resourceRules", bj::array{bj::object{{"verbs", bj::array{"*"}},
                                               {"apiGroups", bj::array{"*"}},
                                               {"resources", bj::array{"*"}}}}},
        {"nonResourceRules",
         bj::array{bj::object{{"verbs", bj::array{"*"}}, {"nonResourceURLs", bj::array{"*"}}}}},
        {"incomplete", false}};
  }
  std::vector<bj::object> rules = auth::RulesFor(store_, user, ns);
  return bj::object{{"resourceRules", RuleList(rules, true)},
                    {"nonResourceRules", RuleList(rules, false)},
                    {"incomplete", false}};
}

bj::object Reviews::TokenRequest(registry::Call& c, const bj::object& body,
                                 std::optional<api::ApiStatus>& error) {
  const std::string& ns = c.info.namespace_;
  const std::string& name = c.info.name;
  Result<std::optional<bj::object>> found =
      registry::ReadObject(store_, *api::FindResource("", "v1", "serviceaccounts"), ns, name);
  if (!found.ok()) {
    error = api::Internal(found.error().str());
    return {};
  }
  if (!*found) {
    error = api::NotFound("", "serviceaccounts", name);
    return {};
  }
  const bj::object& sa = **found;
  bj::object spec = api::Lookup(body, {"spec"}) && body.at("spec").is_object()
                        ? body.at("spec").as_object()
                        : bj::object();
  int64_t seconds = kDefaultTokenSeconds;
  if (const bj::value* e = spec.if_contains("expirationSeconds"); e && e->is_int64()) {
    seconds = e->as_int64();
  }
  api::FieldErrors errors;
  if (seconds < kMinTokenSeconds) {
    errors.Invalid("spec.expirationSeconds", bj::value(seconds),
                   "may not specify a duration less than 10 minutes");
  }
  auth::ServiceAccountClaims claims;
  claims.namespace_ = ns;
  claims.name = name;
  claims.uid = api::LookupString(sa, {"metadata", "uid"});
  claims.audiences = Strings(spec, {"audiences"});
  if (claims.audiences.empty()) claims.audiences = authenticator_.audiences();
  if (const bj::value* ref = spec.if_contains("boundObjectRef"); ref && ref->is_object()) {
    const bj::object& r = ref->as_object();
    std::string kind = api::LookupString(r, {"kind"});
    std::string ref_name = api::LookupString(r, {"name"});
    std::string ref_uid = api::LookupString(r, {"uid"});
    const char* resource = kind == "Pod" ? "pods" : kind == "Secret" ? "secrets" : nullptr;
    if (resource == nullptr) {
      errors.NotSupported("spec.boundObjectRef.kind", bj::string(kind), {"Pod", "Secret"});
    } else {
      Result<std::optional<bj::object>> bound =
          registry::ReadObject(store_, *api::FindResource("", "v1", resource), ns, ref_name);
      if (!bound.ok()) {
        error = api::Internal(bound.error().str());
        return {};
      }
      const std::optional<bj::object>& obj = *bound;
      if (!obj) {
        error = api::NotFound("", resource, ref_name);
        return {};
      }
      std::string uid = api::LookupString(*obj, {"metadata", "uid"});
      if (!ref_uid.empty() && ref_uid != uid) {
        error = api::Conflict("", resource, ref_name,
                              "the UID in the bound object reference (" + ref_uid +
                                  ") does not match the UID in record. The object might have "
                                  "been deleted and then recreated");
        return {};
      }
      if (kind == "Pod") {
        claims.pod_name = ref_name;
        claims.pod_uid = uid;
      } else {
        claims.secret_name = ref_name;
        claims.secret_uid = uid;
      }
    }
  }
  if (!errors.empty()) {
    error = api::InvalidStatus("authentication.k8s.io", "TokenRequest", name, errors.causes());
    return {};
  }
  claims.issued_at = WallClockNow().tv_sec;
  claims.expires_at = claims.issued_at + seconds;
  Result<std::string> token = tokens_.Issue(claims);
  if (!token.ok()) {
    error = api::Internal(token.error().str());
    return {};
  }
  bj::object out = body;
  out["apiVersion"] = "authentication.k8s.io/v1";
  out["kind"] = "TokenRequest";
  bj::object& meta = api::Child(out, "metadata");
  meta["name"] = name;
  meta["namespace"] = ns;
  meta["creationTimestamp"] = registry::NowRfc3339();
  spec["expirationSeconds"] = seconds;
  bj::array aud;
  for (const std::string& a : claims.audiences)
    aud.emplace_back(a);
  spec["audiences"] = std::move(aud);
  out["spec"] = std::move(spec);
  out["status"] =
      bj::object{{"token", *token}, {"expirationTimestamp", FormatRfc3339(claims.expires_at)}};
  return out;
}

}  // namespace berth::controlplane
