#pragma once
// Who sent a request, tried in kube-apiserver's order: a client
// certificate that verifies against the cluster CA (CN = user, each O = a
// group); else a bearer token: the static token file, a service-account
// JWT this server signed (its service account, and a bound pod or secret,
// still existing), or a bootstrap token (a kube-system Secret of type
// bootstrap.kubernetes.io/token). Anonymous requests are refused
// (--anonymous-auth=false); so is a token no authenticator knows.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/server/http/https_server.h"
#include "controlplane/server/token_file.h"

namespace berth::controlplane {

namespace storage {
class Store;
}
namespace auth {
class ServiceAccountTokens;
}

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;  // always includes system:authenticated
  std::map<std::string, std::vector<std::string>> extra;
};

class Authenticator {
 public:
  // Any of the token sources may be null.
  Authenticator(const TokenFile* tokens, const auth::ServiceAccountTokens* service_accounts,
                storage::Store* store, std::vector<std::string> audiences);

  std::optional<UserInfo> Authenticate(const http::Request& request) const;
  // A bearer token alone (TokenReview); `audiences` empty: the server's.
  std::optional<UserInfo> AuthenticateToken(const std::string& token,
                                            const std::vector<std::string>& audiences = {}) const;
  const std::vector<std::string>& audiences() const { return audiences_; }

 private:
  std::optional<UserInfo> ServiceAccount(const std::string& token,
                                         const std::vector<std::string>& audiences) const;
  std::optional<UserInfo> BootstrapToken(const std::string& token) const;

  const TokenFile* tokens_;
  const auth::ServiceAccountTokens* service_accounts_;
  storage::Store* store_;
  std::vector<std::string> audiences_;
};

}  // namespace berth::controlplane
