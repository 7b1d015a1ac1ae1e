#pragma once
// Lenient reads of Kubernetes objects held as Boost.JSON: a field that is
// missing or of another type reads as absent, as Go's decoder leaves the
// zero value. The apiserver validated the objects already.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::agent::fields {

namespace bj = boost::json;

inline const bj::object* ObjectAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return nullptr;
  const bj::value* v = obj->if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

inline const bj::array* ArrayAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return nullptr;
  const bj::value* v = obj->if_contains(key);
  return v != nullptr ? v->if_array() : nullptr;
}

inline std::string StringAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return {};
  const bj::value* v = obj->if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

inline std::optional<int64_t> IntAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return std::nullopt;
  const bj::value* v = obj->if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

inline std::optional<bool> BoolAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return std::nullopt;
  const bj::value* v = obj->if_contains(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

// The container named `name` among spec.containers, then
// spec.initContainers (sidecars carry probes too); null when absent.
// `*init` (if given) tells which list it came from.
inline const bj::object* FindContainer(const bj::object& pod, std::string_view name,
                                       bool* init = nullptr) {
  const bj::object* spec = ObjectAt(&pod, "spec");
  bool is_init = false;
  for (std::string_view list : {"containers", "initContainers"}) {
    if (const bj::array* items = ArrayAt(spec, list)) {
      for (const bj::value& item : *items) {
        const bj::object* c = item.if_object();
        if (c != nullptr && StringAt(c, "name") == name) {
          if (init != nullptr) *init = is_init;
          return c;
        }
      }
    }
    is_init = true;
  }
  return nullptr;
}

}  // namespace berth::agent::fields
