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

namespace {

std::string Qualified(const std::string& group, const std::string& resource) {
  return group.empty() ? resource : resource + "." + group;
}

}  // namespace

ApiStatus NotFound(const std::string& group, const std::string& resource, const std::string& name) {
  return ApiStatus{404,  "NotFound", Qualified(group, resource) + " \"" + name + "\" not found",
                   name, group,      resource,
                   {}};
}

ApiStatus AlreadyExists(const std::string& group, const std::string& resource,
                        const std::string& name) {
  return ApiStatus{
      409,  "AlreadyExists", Qualified(group, resource) + " \"" + name + "\" already exists",
      name, group,           resource,
      {}};
}

ApiStatus Conflict(const std::string& group, const std::string& resource, const std::string& name,
                   const std::string& why) {
  return ApiStatus{409,
                   "Conflict",
                   "Operation cannot be fulfilled on " + Qualified(group, resource) + " \"" + name +
                       "\": " + why,
                   name,
                   group,
                   resource,
                   {}};
}

ApiStatus BadRequest(const std::string& message) {
  return ApiStatus{400, "BadRequest", message, "", "", "", {}};
}

ApiStatus MethodNotAllowed() {
  return ApiStatus{405,
                   "MethodNotAllowed",
                   "the server does not allow this method on the requested resource",
                   "",
                   "",
                   "",
                   {}};
}

ApiStatus Expired(const std::string& message) {
  return ApiStatus{410, "Expired", message, "", "", "", {}};
}

ApiStatus Forbidden(const std::string& message, const std::string& group,
                    const std::string& resource, const std::string& name) {
  return ApiStatus{403, "Forbidden", message, name, group, resource, {}};
}

ApiStatus Internal(const std::string& message) {
  return ApiStatus{500,
                   "InternalError",
                   "Internal error occurred: " + message,
                   "",
                   "",
                   "",
                   {StatusCause{"", message, ""}}};
}

ApiStatus UnsupportedMediaType(const std::string& content_type) {
  return ApiStatus{415,
                   "UnsupportedMediaType",
                   "the body of the request was in an unknown format - accepted media types "
                   "include: application/json-patch+json, application/merge-patch+json, "
                   "application/strategic-merge-patch+json (got " +
                       content_type + ")",
                   "",
                   "",
                   "",
                   {}};
}

ApiStatus Timeout(const std::string& message) {
  return ApiStatus{504, "Timeout", message, "", "", "", {}};
}

}  // namespace berth::controlplane::api
