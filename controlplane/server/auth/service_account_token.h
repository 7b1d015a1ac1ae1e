#pragma once
// Service-account tokens: JWTs the server signs (ES256, key under
// <data-dir>/pki/sa.key) with upstream's claims (iss, sub, aud, exp, iat,
// nbf, jti and the kubernetes.io object bindings), and their verification.
// Whether the bound objects still exist is the authenticator's check.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::controlplane::auth {

inline constexpr char kDefaultIssuer[] = "https://kubernetes.default.svc.cluster.local";

struct ServiceAccountClaims {
  std::string namespace_;
  std::string name;  // the service account
  std::string uid;
  std::string pod_name, pod_uid;  // a bound pod, when any
  std::string secret_name, secret_uid;
  std::string node_name, node_uid;
  std::vector<std::string> audiences;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
  std::string id;  // jti
};

class ServiceAccountTokens {
 public:
  // Reads the signing key at `key_path`, making it on first use.
  static Result<ServiceAccountTokens> Load(const std::string& key_path,
                                           std::string issuer = kDefaultIssuer);
  Result<std::string> Issue(const ServiceAccountClaims& claims) const;
  // Checks the signature, issuer, validity window and that the token is
  // for one of `audiences`. kUnauthenticated says why not.
  Result<ServiceAccountClaims> Verify(const std::string& token,
                                      const std::vector<std::string>& audiences) const;
  const std::string& issuer() const { return issuer_; }

 private:
  std::string key_pem_;
  std::string key_id_;
  std::string issuer_;
};

// The user name of a service account: system:serviceaccount:<ns>:<name>.
std::string ServiceAccountUser(const std::string& ns, const std::string& name);

}  // namespace berth::controlplane::auth
