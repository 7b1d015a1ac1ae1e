#include "runtime/image/registry/registry_error.h"

#include "common/json.h"
#include "common/strings.h"

namespace berth::image::registry {

std::string DescribeErrorBody(std::string_view body) {
  boost::system::error_code ec;
  json::bj::value doc = json::bj::parse(body, ec);
  if (ec || !doc.is_object()) return "";
  const json::bj::value* errors = doc.as_object().if_contains("errors");
  if (errors == nullptr || !errors->is_array()) return "";
  std::vector<std::string> parts;
  for (const json::bj::value& e : errors->as_array()) {
    if (!e.is_object()) continue;
    std::string part;
    if (const auto* code = e.as_object().if_contains("code"); code && code->is_string())
      part = std::string(code->as_string());
    if (const auto* msg = e.as_object().if_contains("message"); msg && msg->is_string()) {
      if (!part.empty()) part += ": ";
      part += std::string(msg->as_string());
    }
    if (!part.empty()) parts.push_back(std::move(part));
  }
  return Join(parts, "; ");
}

Errc ErrcForStatus(int status) {
  switch (status) {
    case 401:
      return Errc::kUnauthenticated;
    case 403:
      return Errc::kPermissionDenied;
    case 404:
      return Errc::kNotFound;
    case 429:
      return Errc::kResourceExhausted;
    default:
      break;
  }
  if (status >= 500) return Errc::kUnavailable;
  if (status >= 400) return Errc::kInvalidArgument;
  return Errc::kUnknown;
}

Error StatusError(const HttpResponse& resp, std::string detail) {
  if (detail.empty()) detail = DescribeErrorBody(resp.body);
  std::string msg = resp.StatusLine() + " from " + resp.url.String();
  if (!detail.empty()) msg += ": " + detail;
  return Error(ErrcForStatus(resp.status), msg);
}

}  // namespace berth::image::registry
