#pragma once
// Legacy discovery documents, from the resource table: /api (APIVersions),
// /apis (APIGroupList), /apis/<group> (APIGroup) and /api/v1,
// /apis/<group>/<version> (APIResourceList). nullopt: no such group or
// version.

#include <optional>
#include <string>

namespace berth::controlplane::api {

std::string ApiVersionsJson(const std::string& server_address);
std::string ApiGroupListJson();
std::optional<std::string> ApiGroupJson(const std::string& group);
std::optional<std::string> ApiResourceListJson(const std::string& group,
                                               const std::string& version);

}  // namespace berth::controlplane::api
