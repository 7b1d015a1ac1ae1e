#include "controlplane/server/api/status.h"

#include <boost/json.hpp>

namespace berth::controlplane::api {

std::string StatusJson(const ApiStatus& s) {
  boost::json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = boost::json::object();
  o["status"] = "Failure";
  o["message"] = s.message;
  if (!s.reason.empty()) o["reason"] = s.reason;
  if (!s.name.empty() || !s.kind.empty() || !s.causes.empty()) {
    boost::json::object details;
    if (!s.name.empty()) details["name"] = s.name;
    if (!s.group.empty()) details["group"] = s.group;
    if (!s.kind.empty()) details["kind"] = s.kind;
    if (!s.causes.empty()) {
      boost::json::array causes;
      for (const StatusCause& c : s.causes) {
        boost::json::object cause;
        cause["reason"] = c.reason;
        cause["message"] = c.message;
        cause["field"] = c.field;
        causes.push_back(std::move(cause));
      }
      details["causes"] = std::move(causes);
    }
    o["details"] = std::move(details);
  }
  o["code"] = s.code;
  return boost::json::serialize(o);
}

ApiStatus Unauthorized() {
  return ApiStatus{401, "Unauthorized", "Unauthorized", "", "", "", {}};
}

ApiStatus NotFoundPath(const std::string& path) {
  return ApiStatus{404,
                   "NotFound",
                   "the server could not find the requested resource",
                   "",
                   "",
                   "",
                   {StatusCause{"UnexpectedServerResponse", "404 page not found: " + path, ""}}};
}

}  // namespace berth::controlplane::api
