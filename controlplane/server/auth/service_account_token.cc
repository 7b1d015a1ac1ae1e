#include "controlplane/server/auth/service_account_token.h"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include "common/base64.h"
#include "common/file.h"
#include "common/pki/pki.h"
#include "common/strings.h"
#include "common/time.h"
#include "controlplane/server/registry/meta.h"

namespace berth::controlplane::auth {
namespace {

namespace bj = boost::json;

std::string Base64Url(std::string_view data) {
  std::string s = Base64Encode(data);
  while (!s.empty() && s.back() == '=')
    s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0)
    s += '=';
  return Base64Decode(s);
}

std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), n);
}

Error Refused(const std::string& why) {
  return Error(Errc::kUnauthenticated, "service account token: " + why);
}

std::string Str(const bj::object& o, std::initializer_list<std::string_view> path) {
  const bj::object* at = &o;
  const bj::value* v = nullptr;
  for (std::string_view key : path) {
    if (at == nullptr) return "";
    v = at->if_contains(key);
    if (v == nullptr) return "";
    at = v->if_object();
  }
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

int64_t Int(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return 0;
}

}  // namespace

std::string ServiceAccountUser(const std::string& ns, const std::string& name) {
  return "system:serviceaccount:" + ns + ":" + name;
}

Result<ServiceAccountTokens> ServiceAccountTokens::Load(const std::string& key_path,
                                                        std::string issuer) {
  ServiceAccountTokens t;
  t.issuer_ = std::move(issuer);
  if (PathExists(key_path)) {
    t.key_pem_ = BERTH_TRY(ReadFile(key_path));
  } else {
    t.key_pem_ = BERTH_TRY(pki::NewSigningKey());
    BERTH_TRY(WriteFileAtomic(key_path, t.key_pem_, 0600));
  }
  std::string der = BERTH_TRY_CTX(pki::PublicKeyDer(t.key_pem_), key_path);
  t.key_id_ = Base64Url(Sha256(der));
  return t;
}

Result<std::string> ServiceAccountTokens::Issue(const ServiceAccountClaims& c) const {
  bj::object header{{"alg", "ES256"}, {"kid", key_id_}};
  bj::array aud;
  for (const std::string& a : c.audiences)
    aud.emplace_back(a);
  bj::object k8s{{"namespace", c.namespace_},
                 {"serviceaccount", bj::object{{"name", c.name}, {"uid", c.uid}}}};
  if (!c.pod_name.empty()) k8s["pod"] = bj::object{{"name", c.pod_name}, {"uid", c.pod_uid}};
  if (!c.secret_name.empty()) {
    k8s["secret"] = bj::object{{"name", c.secret_name}, {"uid", c.secret_uid}};
  }
  if (!c.node_name.empty()) k8s["node"] = bj::object{{"name", c.node_name}, {"uid", c.node_uid}};
  bj::object payload{{"aud", std::move(aud)},
                     {"exp", c.expires_at},
                     {"iat", c.issued_at},
                     {"iss", issuer_},
                     {"jti", c.id.empty() ? registry::NewUid() : c.id},
                     {"kubernetes.io", std::move(k8s)},
                     {"nbf", c.issued_at},
                     {"sub", ServiceAccountUser(c.namespace_, c.name)}};
  std::string signing_input =
      Base64Url(bj::serialize(header)) + "." + Base64Url(bj::serialize(payload));
  std::string signature = BERTH_TRY(pki::SignEs256(key_pem_, signing_input));
  return signing_input + "." + Base64Url(signature);
}

Result<ServiceAccountClaims> ServiceAccountTokens::Verify(
    const std::string& token, const std::vector<std::string>& audiences) const {
  std::vector<std::string> parts = Split(token, '.');
  if (parts.size() != 3) return Refused("not a JWT");
  std::optional<std::string> header_text = FromBase64Url(parts[0]);
  std::optional<std::string> payload_text = FromBase64Url(parts[1]);
  std::optional<std::string> signature = FromBase64Url(parts[2]);
  if (!header_text || !payload_text || !signature) return Refused("malformed base64url");
  boost::system::error_code ec;
  bj::value header = bj::parse(*header_text, ec);
  if (ec || !header.is_object() || Str(header.as_object(), {"alg"}) != "ES256") {
    return Refused("unsupported header");
  }
  if (!pki::VerifyEs256(key_pem_, parts[0] + "." + parts[1], *signature)) {
    return Refused("invalid signature");
  }
  bj::value payload = bj::parse(*payload_text, ec);
  if (ec || !payload.is_object()) return Refused("malformed claims");
  const bj::object& p = payload.as_object();
  if (Str(p, {"iss"}) != issuer_) return Refused("issuer is not " + issuer_);
  int64_t now = WallClockNow().tv_sec;
  ServiceAccountClaims c;
  c.expires_at = Int(p, "exp");
  c.issued_at = Int(p, "iat");
  int64_t not_before = Int(p, "nbf");
  // Upstream allows a minute of clock skew each way.
  if (c.expires_at != 0 && now > c.expires_at + 60) return Refused("expired");
  if (not_before != 0 && now + 60 < not_before) return Refused("not valid yet");
  if (const bj::value* aud = p.if_contains("aud"); aud != nullptr) {
    if (aud->is_string()) c.audiences.emplace_back(aud->as_string());
    if (aud->is_array()) {
      for (const bj::value& a : aud->as_array())
        if (a.is_string()) c.audiences.emplace_back(a.as_string());
    }
  }
  bool audience_ok = false;
  for (const std::string& want : audiences)
    for (const std::string& have : c.audiences)
      audience_ok = audience_ok || want == have;
  if (!audience_ok) return Refused("token audience does not match");
  c.namespace_ = Str(p, {"kubernetes.io", "namespace"});
  c.name = Str(p, {"kubernetes.io", "serviceaccount", "name"});
  c.uid = Str(p, {"kubernetes.io", "serviceaccount", "uid"});
  c.pod_name = Str(p, {"kubernetes.io", "pod", "name"});
  c.pod_uid = Str(p, {"kubernetes.io", "pod", "uid"});
  c.secret_name = Str(p, {"kubernetes.io", "secret", "name"});
  c.secret_uid = Str(p, {"kubernetes.io", "secret", "uid"});
  c.node_name = Str(p, {"kubernetes.io", "node", "name"});
  c.node_uid = Str(p, {"kubernetes.io", "node", "uid"});
  c.id = Str(p, {"jti"});
  if (c.namespace_.empty() || c.name.empty()) return Refused("no service account in the claims");
  if (Str(p, {"sub"}) != ServiceAccountUser(c.namespace_, c.name)) {
    return Refused("subject does not match the service account");
  }
  return c;
}

}  // namespace berth::controlplane::auth
