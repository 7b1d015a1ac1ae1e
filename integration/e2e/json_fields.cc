#include "integration/e2e/json_fields.h"

namespace berth::e2e {

const bj::value* Field(const bj::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const bj::value* found = v.find_pointer(pointer, ec);
  return ec ? nullptr : found;
}

std::string StringAt(const bj::value& v, std::string_view pointer) {
  const bj::value* f = Field(v, pointer);
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : "";
}

int64_t IntAt(const bj::value& v, std::string_view pointer) {
  const bj::value* f = Field(v, pointer);
  if (f == nullptr) return -1;
  if (f->is_int64()) return f->as_int64();
  if (f->is_uint64()) return static_cast<int64_t>(f->as_uint64());
  return -1;
}

std::string Condition(const bj::value& object, std::string_view type) {
  const bj::value* conditions = Field(object, "/status/conditions");
  if (conditions == nullptr || !conditions->is_array()) return "";
  for (const bj::value& c : conditions->as_array()) {
    if (StringAt(c, "/type") == type) return StringAt(c, "/status");
  }
  return "";
}

const bj::value* ContainerStatus(const bj::value& pod, std::string_view name, bool init) {
  const bj::value* statuses =
      Field(pod, init ? "/status/initContainerStatuses" : "/status/containerStatuses");
  if (statuses == nullptr || !statuses->is_array()) return nullptr;
  for (const bj::value& s : statuses->as_array()) {
    if (StringAt(s, "/name") == name) return &s;
  }
  return nullptr;
}

std::string StateOf(const bj::value& container_status) {
  if (const bj::value* w = Field(container_status, "/state/waiting")) {
    return "waiting " + StringAt(*w, "/reason");
  }
  if (const bj::value* t = Field(container_status, "/state/terminated")) {
    return "terminated " + StringAt(*t, "/reason") + " " + std::to_string(IntAt(*t, "/exitCode"));
  }
  if (Field(container_status, "/state/running") != nullptr) return "running";
  return "?";
}

}  // namespace berth::e2e
