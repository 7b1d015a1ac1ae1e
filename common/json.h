#pragma once
// Typed, path-aware reads of a Boost.JSON DOM.
//
// Kubernetes objects and OCI documents stay as JSON; code reads the fields it
// uses through a Field, which remembers where it is in the document, so a
// type error names the field: `process.args[1]: expected string, got number`.

#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::json {

namespace bj = boost::json;

// Parses JSON text; `what` (a path or name) prefixes the error.
Result<bj::value> Parse(std::string_view text, std::string_view what);
const char* KindName(const bj::value& v);

class Field {
 public:
  Field(const bj::value* value, std::string path) : v_(value), path_(std::move(path)) {}

  // A field is absent when missing or JSON null (Go's encoding/json reads
  // null into the zero value, and OCI documents rely on that).
  bool present() const { return v_ != nullptr && !v_->is_null(); }
  const std::string& path() const { return path_; }
  const bj::value* raw() const { return v_; }

  Field operator[](std::string_view key) const;
  Error TypeError(std::string_view expected) const;
  Error Invalid(std::string_view why) const;

  Result<std::string> String() const;
  Result<std::optional<std::string>> OptString() const;
  Result<bool> Bool(bool fallback = false) const;
  Result<std::optional<bool>> OptBool() const;
  template <class T>
  Result<T> Int() const;
  template <class T>
  Result<std::optional<T>> OptInt() const;
  Result<std::vector<std::string>> StringArray() const;  // absent -> empty
  // Array elements / object members as Fields (absent -> empty).
  Result<std::vector<Field>> Items() const;
  // Each array element through `parse` (const Field& -> Result<T>); absent
  // -> empty. The first error stops it.
  template <class Parse>
  auto MapItems(Parse parse) const
      -> Result<std::vector<typename std::invoke_result_t<Parse, const Field&>::value_type>>;
  Result<std::vector<std::pair<std::string, Field>>> Members() const;
  // Object of string values (annotations, sysctl, labels).
  Result<std::vector<std::pair<std::string, std::string>>> StringMap() const;
  Status ExpectObject() const;

 private:
  Result<int64_t> Signed() const;
  Result<uint64_t> Unsigned() const;

  const bj::value* v_;
  std::string path_;
};

template <class T>
Result<T> Field::Int() const {
  static_assert(std::is_integral_v<T>);
  if (!present()) return Error(Errc::kInvalidArgument, path_ + ": required field missing");
  if constexpr (std::is_signed_v<T>) {
    int64_t v = BERTH_TRY(Signed());
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      return Invalid("value " + std::to_string(v) + " out of range");
    }
    return static_cast<T>(v);
  } else {
    uint64_t v = BERTH_TRY(Unsigned());
    if (v > std::numeric_limits<T>::max())
      return Invalid("value " + std::to_string(v) + " out of range");
    return static_cast<T>(v);
  }
}

template <class Parse>
auto Field::MapItems(Parse parse) const
    -> Result<std::vector<typename std::invoke_result_t<Parse, const Field&>::value_type>> {
  std::vector<typename std::invoke_result_t<Parse, const Field&>::value_type> out;
  for (const Field& item : BERTH_TRY(Items()))
    out.push_back(BERTH_TRY(parse(item)));
  return out;
}

template <class T>
Result<std::optional<T>> Field::OptInt() const {
  if (!present()) return std::optional<T>();
  T v = BERTH_TRY(Int<T>());
  return std::optional<T>(v);
}

}  // namespace berth::json
