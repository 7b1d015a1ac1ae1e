#pragma once
// The OpenAPI v3 documents kubectl reads before it writes: /openapi/v3
// (the group-version index) and one document per group-version listing
// each resource's paths, whose PATCH operations carry the
// x-kubernetes-group-version-kind and the fieldValidation parameter
// (kubectl then leaves validation to the server instead of fetching
// schemas). Type schemas are not published yet: kubectl falls back to its
// built-in types for strategic merge patches.

#include <optional>
#include <string>

namespace berth::controlplane::api {

std::string OpenApiV3Index();
// /openapi/v2 in the protobuf form clients ask for (gnostic's
// openapi.v2.Document): the same paths and PATCH operations, so kubectl
// 1.27 finds server-side field validation there.
std::string OpenApiV2Protobuf();
inline constexpr char kOpenApiV2ProtobufType[] =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
// `group_version_path`: "api/v1" or "apis/<group>/<version>".
std::optional<std::string> OpenApiV3Document(const std::string& group_version_path);

}  // namespace berth::controlplane::api
