// core/v1 ConfigMap and Secret: key rules, a Secret's default type, its
// write-only stringData folded into data, immutability once `immutable`
// is set, and their `kubectl get` columns.

#include "common/base64.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

bool IsConfigKey(std::string_view key) {
  if (key.empty() || key.size() > 253 || key == "." || key == "..") return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

size_t CountKeys(const bj::object& obj, std::initializer_list<std::string_view> keys) {
  size_t n = 0;
  for (std::string_view key : keys) {
    const bj::value* v = obj.if_contains(key);
    if (v != nullptr && v->is_object()) n += v->as_object().size();
  }
  return n;
}

void ValidateKeys(const bj::object& obj, std::string_view field, bool base64_values,
                  FieldErrors& errors) {
  const bj::value* v = obj.if_contains(field);
  if (v == nullptr || v->is_null()) return;
  if (!v->is_object()) return errors.Invalid(std::string(field), *v, "must be an object");
  for (const auto& [key, value] : v->as_object()) {
    std::string at = std::string(field) + "[" + std::string(key) + "]";
    if (!IsConfigKey(key)) {
      errors.Invalid(at, bj::string(key),
                     "a valid config key must consist of alphanumeric characters, '-', '_' or "
                     "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                     "validation is '[-._a-zA-Z0-9]+')");
    }
    if (!value.is_string()) {
      errors.Invalid(at, value, "must be a string");
    } else if (base64_values && !Base64Decode(value.as_string()).has_value()) {
      errors.Invalid(at, bj::string("<secret contents redacted>"), "illegal base64 data");
    }
  }
}

// Data may not change once the object says immutable: true.
void ValidateImmutable(const bj::object& obj, const bj::object* old, FieldErrors& errors) {
  if (old == nullptr) return;
  const bj::value* was = old->if_contains("immutable");
  if (was == nullptr || !was->is_bool() || !was->as_bool()) return;
  const bj::value* now = obj.if_contains("immutable");
  if (now == nullptr || !now->is_bool() || !now->as_bool()) {
    errors.Forbidden("immutable", "field is immutable when `immutable` is set");
  }
  for (const char* field : {"data", "binaryData"}) {
    const bj::value* a = obj.if_contains(field);
    const bj::value* b = old->if_contains(field);
    bj::value none;
    if ((a != nullptr ? *a : none) != (b != nullptr ? *b : none)) {
      errors.Forbidden(field, "field is immutable when `immutable` is set");
    }
  }
}

class ConfigMap : public Kind {
 public:
  void Validate(const bj::object& obj, const bj::object* old, FieldErrors& errors) const override {
    ValidateKeys(obj, "data", false, errors);
    ValidateKeys(obj, "binaryData", true, errors);
    ValidateImmutable(obj, old, errors);
  }
  std::vector<TableColumn> Columns() const override {
    return {NameColumn(), {"Data", "integer", "", "Number of data items.", 0}, AgeColumn()};
  }
  bj::array Cells(const bj::object& obj, time_t now) const override {
    return {NameOf(obj), CountKeys(obj, {"data", "binaryData"}), Age(obj, now)};
  }
};

class Secret : public Kind {
 public:
  void Default(bj::object& obj) const override {
    SetDefault(obj, "type", "Opaque");
    // stringData is write-only: folded into data, its values winning.
    bj::value* string_data = obj.if_contains("stringData");
    if (string_data == nullptr) return;
    if (string_data->is_object()) {
      bj::object& data = Child(obj, "data");
      for (const auto& [key, value] : string_data->as_object()) {
        if (value.is_string()) data[key] = Base64Encode(value.as_string());
      }
    }
    obj.erase("stringData");
  }
  void Validate(const bj::object& obj, const bj::object* old, FieldErrors& errors) const override {
    ValidateKeys(obj, "data", true, errors);
    ValidateImmutable(obj, old, errors);
    if (old != nullptr) {
      errors.Immutable("type", obj.if_contains("type"), old->if_contains("type"));
    }
  }
  std::optional<std::string> Field(const bj::object& obj, std::string_view field) const override {
    if (field == "type") return LookupString(obj, {"type"});
    return Kind::Field(obj, field);
  }
  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Type", "string", "", "The type of the secret", 0},
            {"Data", "integer", "", "Number of data items.", 0},
            AgeColumn()};
  }
  bj::array Cells(const bj::object& obj, time_t now) const override {
    return {NameOf(obj), LookupString(obj, {"type"}), CountKeys(obj, {"data"}), Age(obj, now)};
  }
};

}  // namespace

const Kind& ConfigMapKind() {
  static const ConfigMap kind;
  return kind;
}
const Kind& SecretKind() {
  static const Secret kind;
  return kind;
}

}  // namespace berth::controlplane::api
