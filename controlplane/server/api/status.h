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

}  // namespace berth::controlplane::api
