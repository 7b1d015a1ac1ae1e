#include "controlplane/server/authn.h"

namespace berth::controlplane {

std::optional<UserInfo> Authenticate(const http::Request& request) {
  if (request.peer.verified && !request.peer.common_name.empty()) {
    UserInfo user{request.peer.common_name, request.peer.organizations};
    user.groups.emplace_back("system:authenticated");
    return user;
  }
  return std::nullopt;
}

}  // namespace berth::controlplane
