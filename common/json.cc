#include "common/json.h"

namespace berth::json {

Result<bj::value> Parse(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  bj::stream_parser parser;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    // Report the line of the failure so a hand-edited file is easy to fix.
    size_t line = 1;
    for (size_t i = 0; i < consumed && i < text.size(); ++i)
      line += text[i] == '\n';
    return Error(Errc::kInvalidArgument, std::string(what) + ": invalid JSON at line " +
                                             std::to_string(line) + ": " + ec.message());
  }
  return parser.release();
}

const char* KindName(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null:
      return "null";
    case bj::kind::bool_:
      return "boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_:
      return "number";
    case bj::kind::string:
      return "string";
    case bj::kind::array:
      return "array";
    case bj::kind::object:
      return "object";
  }
  return "value";
}

Field Field::operator[](std::string_view key) const {
  std::string child = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  if (!present() || !v_->is_object()) return Field(nullptr, std::move(child));
  const bj::object& obj = v_->get_object();
  auto it = obj.find(key);
  return Field(it == obj.end() ? nullptr : &it->value(), std::move(child));
}

Error Field::TypeError(std::string_view expected) const {
  return Error(Errc::kInvalidArgument, path_ + ": expected " + std::string(expected) + ", got " +
                                           (v_ ? KindName(*v_) : "nothing"));
}

Error Field::Invalid(std::string_view why) const {
  return Error(Errc::kInvalidArgument, path_ + ": " + std::string(why));
}

Result<std::string> Field::String() const {
  if (!present()) return Error(Errc::kInvalidArgument, path_ + ": required field missing");
  if (!v_->is_string()) return TypeError("string");
  return std::string(v_->get_string());
}

Result<std::optional<std::string>> Field::OptString() const {
  if (!present()) return std::optional<std::string>();
  if (!v_->is_string()) return TypeError("string");
  return std::optional<std::string>(std::string(v_->get_string()));
}

Result<bool> Field::Bool(bool fallback) const {
  if (!present()) return fallback;
  if (!v_->is_bool()) return TypeError("boolean");
  return v_->get_bool();
}

Result<std::optional<bool>> Field::OptBool() const {
  if (!present()) return std::optional<bool>();
  if (!v_->is_bool()) return TypeError("boolean");
  return std::optional<bool>(v_->get_bool());
}

Result<int64_t> Field::Signed() const {
  if (v_->is_int64()) return v_->get_int64();
  if (v_->is_uint64()) {
    uint64_t u = v_->get_uint64();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Invalid("value " + std::to_string(u) + " out of range");
    }
    return static_cast<int64_t>(u);
  }
  return TypeError("integer");
}

Result<uint64_t> Field::Unsigned() const {
  if (v_->is_uint64()) return v_->get_uint64();
  if (v_->is_int64()) {
    int64_t s = v_->get_int64();
    if (s < 0) return Invalid("value " + std::to_string(s) + " must not be negative");
    return static_cast<uint64_t>(s);
  }
  return TypeError("integer");
}

Result<std::vector<std::string>> Field::StringArray() const {
  std::vector<std::string> out;
  for (const Field& item : BERTH_TRY(Items()))
    out.push_back(BERTH_TRY(item.String()));
  return out;
}

Result<std::vector<Field>> Field::Items() const {
  std::vector<Field> out;
  if (!present()) return out;
  if (!v_->is_array()) return TypeError("array");
  const bj::array& arr = v_->get_array();
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    out.emplace_back(&arr[i], path_ + "[" + std::to_string(i) + "]");
  }
  return out;
}

Result<std::vector<std::pair<std::string, Field>>> Field::Members() const {
  std::vector<std::pair<std::string, Field>> out;
  if (!present()) return out;
  if (!v_->is_object()) return TypeError("object");
  for (const auto& kv : v_->get_object()) {
    std::string key(kv.key());
    out.emplace_back(key, Field(&kv.value(), path_ + "." + key));
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Field::StringMap() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [key, field] : BERTH_TRY(Members()))
    out.emplace_back(key, BERTH_TRY(field.String()));
  return out;
}

Status Field::ExpectObject() const {
  if (present() && !v_->is_object()) return TypeError("object");
  return Ok();
}

}  // namespace berth::json
