#include "agent/config/duration.h"

#include <array>
#include <cctype>
#include <utility>

namespace berth::agent {
namespace {

constexpr std::array<std::pair<std::string_view, int64_t>, 8> kUnits = {{
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000},  // U+00B5 micro sign
    {"\xce\xbcs", 1000},  // U+03BC Greek mu
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", 60LL * 1000000000},
    {"h", 3600LL * 1000000000},
}};

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text, std::string_view what) {
  auto invalid = [&] {
    return Error(Errc::kInvalidArgument,
                 std::string(what) + ": invalid duration \"" + std::string(text) + "\"");
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return invalid();
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    bool digits = false;
    while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
      digits = digits || s[i] != '.';
      ++i;
    }
    if (!digits) return invalid();
    std::string number(s.substr(0, i));
    if (number.find('.') != number.rfind('.')) return invalid();
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && !isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.')
      ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    int64_t scale = 0;
    for (const auto& [name, ns] : kUnits)
      if (unit == name) scale = ns;
    if (scale == 0) {
      if (unit.empty()) {
        return Error(Errc::kInvalidArgument, std::string(what) + ": missing unit in duration \"" +
                                                 std::string(text) + "\"");
      }
      return Error(Errc::kInvalidArgument, std::string(what) + ": unknown unit \"" +
                                               std::string(unit) + "\" in duration \"" +
                                               std::string(text) + "\"");
    }
    total += std::stold(number) * static_cast<long double>(scale);
  }
  if (total > 9.2e18L) return invalid();
  auto ns = static_cast<int64_t>(total);
  return std::chrono::nanoseconds(negative ? -ns : ns);
}

}  // namespace berth::agent
