#pragma once
// What volumes need from the cluster, supplied by the agent as functions
// (volumes/ knows no API client).

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "common/error.h"
#include "volumes/field_ref.h"

namespace berth::volumes {

struct Sources {
  // The ConfigMap / Secret object; kNotFound when it does not exist.
  std::function<Result<boost::json::object>(const std::string& ns, const std::string& name)>
      config_map;
  std::function<Result<boost::json::object>(const std::string& ns, const std::string& name)> secret;
  // A TokenRequest for a projected serviceAccountToken, bound to the pod:
  // the token and when it expires. `audience` empty means the apiserver's
  // default audiences.
  std::function<Result<std::pair<std::string, std::chrono::system_clock::time_point>>(
      const std::string& ns, const std::string& service_account, const std::string& audience,
      int64_t expiration_seconds, const std::string& pod_name, const std::string& pod_uid)>
      token;
  NodeAllocatable node;
};

}  // namespace berth::volumes
