#include "controlplane/server/authn.h"

#include <cctype>

namespace berth::controlplane {
namespace {

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

}  // namespace

std::optional<UserInfo> Authenticate(const http::Request& request, const TokenFile* tokens) {
  if (request.peer.verified && !request.peer.common_name.empty()) {
    UserInfo user{request.peer.common_name, request.peer.organizations};
    user.groups.emplace_back("system:authenticated");
    return user;
  }
  std::string token = BearerToken(request);
  if (!token.empty() && tokens != nullptr) {
    if (std::optional<TokenUser> found = tokens->Lookup(token)) {
      UserInfo user{found->name, found->groups};
      user.groups.emplace_back("system:authenticated");
      return user;
    }
  }
  return std::nullopt;
}

}  // namespace berth::controlplane
