#include "controlplane/client/api_util.h"

#include "common/strings.h"

namespace berth::controlplane::client {
namespace {

namespace bj = boost::json;

Errc ErrcForHttp(int code) {
  switch (code) {
    case 400:
    case 422:
      return Errc::kInvalidArgument;
    case 401:
      return Errc::kUnauthenticated;
    case 403:
      return Errc::kPermissionDenied;
    case 404:
      return Errc::kNotFound;
    case 405:
      return Errc::kUnimplemented;
    case 409:
      return Errc::kAborted;
    case 410:
      return Errc::kOutOfRange;
    case 429:
      return Errc::kResourceExhausted;
    default:
      return code >= 500 ? Errc::kUnavailable : Errc::kUnknown;
  }
}

}  // namespace

const bj::value* ValueAt(const bj::object& obj, std::initializer_list<std::string_view> path) {
  const bj::object* cur = &obj;
  const bj::value* v = nullptr;
  for (std::string_view key : path) {
    if (cur == nullptr) return nullptr;
    v = cur->if_contains(key);
    if (v == nullptr || v->is_null()) return nullptr;
    cur = v->if_object();
  }
  return v;
}

std::string StringAt(const bj::object& obj, std::initializer_list<std::string_view> path) {
  const bj::value* v = ValueAt(obj, path);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

std::vector<std::string> StringsAt(const bj::object& obj,
                                   std::initializer_list<std::string_view> path) {
  std::vector<std::string> out;
  const bj::value* v = ValueAt(obj, path);
  if (v == nullptr || !v->is_array()) return out;
  for (const bj::value& s : v->as_array())
    if (s.is_string()) out.emplace_back(s.as_string());
  return out;
}

bool Has(const bj::object& obj, std::initializer_list<std::string_view> path) {
  const bj::value* v = ValueAt(obj, path);
  return v != nullptr && !v->is_null();
}

bool BeingDeleted(const bj::object& obj) {
  return Has(obj, {"metadata", "deletionTimestamp"});
}

Error HttpError(std::string_view method, const std::string& target, const ApiResponse& response) {
  std::string detail;
  bj::value body = response.Json();
  if (const bj::object* status = body.if_object()) {
    std::string reason = StringAt(*status, {"reason"});
    std::string message = StringAt(*status, {"message"});
    detail = reason.empty() ? message : reason + ": " + message;
  } else {
    detail = response.body.substr(0, 200);
  }
  return Error(ErrcForHttp(response.status), std::string(method) + " " + target + ": HTTP " +
                                                 std::to_string(response.status) +
                                                 (detail.empty() ? "" : " " + detail));
}

std::string StatusMessage(const ApiResponse& response, std::string_view method,
                          const std::string& target) {
  bj::value body = response.Json();
  if (body.is_object()) {
    std::string message = StringAt(body.as_object(), {"message"});
    if (!message.empty()) return message;
  }
  return HttpError(method, target, response).message();
}

bool HasStatusCause(const ApiResponse& response, std::string_view cause) {
  bj::value body = response.Json();
  const bj::object* status = body.if_object();
  if (status == nullptr) return false;
  const bj::value* causes = ValueAt(*status, {"details", "causes"});
  if (causes == nullptr || !causes->is_array()) return false;
  for (const bj::value& c : causes->as_array()) {
    if (c.is_object() && StringAt(c.as_object(), {"reason"}) == cause) return true;
  }
  return false;
}

Result<std::vector<bj::object>> ListAll(ApiClient& api, const std::string& collection) {
  std::vector<bj::object> items;
  std::string token;
  const char* sep = collection.find('?') == std::string::npos ? "?" : "&";
  do {
    std::string url = collection + sep + "limit=500";
    if (!token.empty()) url += "&continue=" + PercentEncode(token);
    ApiResponse r = BERTH_TRY(api.Do("GET", url));
    if (r.status == 410 && !token.empty()) {  // the continue token expired: start over
      items.clear();
      token.clear();
      continue;
    }
    if (r.status != 200) return HttpError("GET", url, r);
    bj::value list = r.Json();
    if (!list.is_object()) return Error(Errc::kDataLoss, "GET " + url + ": not a JSON object");
    token = StringAt(list.as_object(), {"metadata", "continue"});
    if (const bj::value* got = list.as_object().if_contains("items"); got && got->is_array()) {
      for (const bj::value& item : got->as_array())
        if (item.is_object()) items.push_back(item.as_object());
    }
  } while (!token.empty());
  return items;
}

}  // namespace berth::controlplane::client
