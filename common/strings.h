#pragma once
// Small string helpers the standard library lacks in C++20.

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"

namespace berth {

std::vector<std::string> Split(std::string_view s, char sep);
// Split, dropping empty fields (e.g. runs of whitespace).
std::vector<std::string> SplitNonEmpty(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Trim(std::string_view s);
// JSON string literal (with quotes) for `s`.
std::string JsonQuote(std::string_view s);
// Percent-encodes all but RFC 3986's unreserved characters (a URL query
// value or path segment).
std::string PercentEncode(std::string_view s);

// Parses a whole decimal integer; `what` names the value in the error.
template <class T>
Result<T> ParseInt(std::string_view s, std::string_view what, int base = 10) {
  static_assert(std::is_integral_v<T>);
  T value{};
  std::string_view t = Trim(s);
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value, base);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": invalid integer \"" + std::string(s) + "\"");
  }
  return value;
}

}  // namespace berth
