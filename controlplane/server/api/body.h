#pragma once
// A request body as JSON: application/json as is, application/yaml
// converted the way upstream's yaml-to-json does (plain scalars typed:
// true/false, null/~, numbers; quoted ones stay strings), and
// application/vnd.kubernetes.protobuf decoded (protobuf.h). Errors say
// what failed to parse and where; kUnimplemented: a protobuf kind or field
// this server cannot read.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::controlplane::api {

Result<boost::json::value> ParseBody(std::string_view body, std::string_view content_type);

}  // namespace berth::controlplane::api
