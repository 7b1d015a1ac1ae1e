#pragma once
// Turning registry HTTP responses into berth errors: the status line, the
// URL, and the distribution spec's error body
// ({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}).

#include <string>
#include <string_view>

#include "common/error.h"
#include "runtime/image/registry/http_client.h"

namespace berth::image::registry {

// "MANIFEST_UNKNOWN: manifest unknown; NAME_UNKNOWN: ..." or "" when the
// body is not a distribution error document.
std::string DescribeErrorBody(std::string_view body);

// NotFound for 404, Unauthenticated 401, PermissionDenied 403,
// ResourceExhausted 429, Unavailable 5xx, InvalidArgument for other 4xx.
Errc ErrcForStatus(int status);

// "<status> <reason> from <url>[: <detail>]", detail defaulting to the
// error body's description.
Error StatusError(const HttpResponse& resp, std::string detail = "");

}  // namespace berth::image::registry
