#pragma once
// WWW-Authenticate challenges (RFC 7235 section 4.1), as registries send
// them on 401:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
//          scope="repository:library/busybox:pull"
//   Basic realm="Registry Realm"
// One header may carry several comma-separated challenges and a response
// may carry several headers; parameter values are tokens or quoted strings
// with backslash escapes.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::image::registry {

struct Challenge {
  std::string scheme;                                       // lowercased: "bearer", "basic"
  std::vector<std::pair<std::string, std::string>> params;  // names lowercased
  std::string token68;  // for schemes that send one instead of parameters

  // The parameter's value, "" when absent.
  std::string Param(std::string_view name) const;
};

Result<std::vector<Challenge>> ParseWwwAuthenticate(const std::vector<std::string>& headers);

}  // namespace berth::image::registry
