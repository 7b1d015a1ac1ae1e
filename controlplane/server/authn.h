#pragma once
// Who sent a request. So far: a client certificate that verifies against
// the cluster CA (CN = user, each O = a group). Bearer tokens (static
// file, service-account JWTs, bootstrap tokens) come next. Anonymous
// requests are refused (kube-apiserver's --anonymous-auth=false).

#include <optional>
#include <string>
#include <vector>

#include "controlplane/server/http/https_server.h"

namespace berth::controlplane {

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;  // always includes system:authenticated
};

std::optional<UserInfo> Authenticate(const http::Request& request);

}  // namespace berth::controlplane
