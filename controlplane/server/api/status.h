#pragma once
// The API's error body: a meta.k8s.io/v1 Status ("kind":"Status",
// "apiVersion":"v1"), as every kube-apiserver error is, with the reason
// clients switch on (NotFound, AlreadyExists, Conflict, Invalid, ...) and
// the HTTP code it travels with.

#include <string>
#include <vector>

namespace berth::controlplane::api {

struct StatusCause {
  std::string reason;  // FieldValueInvalid, FieldValueRequired, ...
  std::string message;
  std::string field;  // e.g. "metadata.name"
};

struct ApiStatus {
  int code = 500;
  std::string reason;  // "" for a plain 500
  std::string message;
  // details: the object's name, group and kind, and field causes.
  std::string name;
  std::string group;
  std::string kind;
  std::vector<StatusCause> causes;
};

// The Status object as JSON.
std::string StatusJson(const ApiStatus& status);

ApiStatus Unauthorized();
ApiStatus NotFoundPath(const std::string& path);

// `resource` is the plural ("pods"); with a group it reads "deployments.apps".
ApiStatus NotFound(const std::string& group, const std::string& resource, const std::string& name);
ApiStatus AlreadyExists(const std::string& group, const std::string& resource,
                        const std::string& name);
// "Operation cannot be fulfilled on pods \"x\": <why>".
ApiStatus Conflict(const std::string& group, const std::string& resource, const std::string& name,
                   const std::string& why);
ApiStatus BadRequest(const std::string& message);
ApiStatus MethodNotAllowed();
// 410 Expired: a resourceVersion or continue token older than the
// compacted history.
ApiStatus Expired(const std::string& message);
ApiStatus Forbidden(const std::string& message, const std::string& group,
                    const std::string& resource, const std::string& name);
ApiStatus Internal(const std::string& message);
ApiStatus UnsupportedMediaType(const std::string& content_type);
ApiStatus Timeout(const std::string& message);

}  // namespace berth::controlplane::api
