#pragma once
// Who sent a request: a client certificate that verifies against the
// cluster CA (CN = user, each O = a group), else a bearer token from the
// static token file. Service-account JWTs and bootstrap tokens come next.
// Anonymous requests are refused (kube-apiserver's --anonymous-auth=false);
// so is a request with a bearer token no authenticator knows.

#include <optional>
#include <string>
#include <vector>

#include "controlplane/server/http/https_server.h"
#include "controlplane/server/token_file.h"

namespace berth::controlplane {

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;  // always includes system:authenticated
};

// `tokens` may be null (no --token-auth-file).
std::optional<UserInfo> Authenticate(const http::Request& request, const TokenFile* tokens);

}  // namespace berth::controlplane
