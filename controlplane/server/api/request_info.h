#pragma once
// What an API request asks for, read from its method, path and query the
// way kube-apiserver's RequestInfoFactory reads them: the verb (get, list,
// watch, create, update, patch, delete, deletecollection), the group,
// version, resource, subresource, namespace and name. Authorization and
// the REST handlers both start from it.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace berth::controlplane::api {

struct RequestInfo {
  bool is_resource_request = false;  // false: /version, /api, /apis, /healthz, ...
  std::string verb;                  // for a non-resource request: the lower-cased method
  std::string group;
  std::string version;
  std::string resource;
  std::string subresource;
  std::string namespace_;
  std::string name;
  std::string path;
};

// Query parameters, percent-decoded; a repeated one keeps its first value.
using Query = std::map<std::string, std::string, std::less<>>;
Query ParseQuery(std::string_view query);
std::string PercentDecode(std::string_view text);

RequestInfo ParseRequestInfo(std::string_view method, std::string_view path, const Query& query);

}  // namespace berth::controlplane::api
