#include "agent/config/quantity.h"

#include <cctype>
#include <cstdlib>
#include <limits>

namespace berth::agent {
namespace {

using Int = __int128;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

Error Invalid(std::string_view text, std::string_view what) {
  return Error(Errc::kInvalidArgument,
               std::string(what) + ": invalid quantity \"" + std::string(text) + "\"");
}

// The number `text` denotes times 10^scale, rounded away from zero.
Result<int64_t> Parse(std::string_view text, std::string_view what, int scale) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  // The mantissa's significant digits, with trailing zeros moved into
  // the exponent so that "1000000" stays small.
  Int mantissa = 0;
  int digits = 0, exponent = 0;
  bool any_digit = false, seen_dot = false;
  size_t i = 0;
  int pending_zeros = 0;
  for (; i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.'); ++i) {
    if (s[i] == '.') {
      if (seen_dot) return Invalid(text, what);
      seen_dot = true;
      continue;
    }
    any_digit = true;
    int d = s[i] - '0';
    if (seen_dot) --exponent;
    if (d == 0) {
      ++pending_zeros;
      continue;
    }
    for (; pending_zeros > 0; --pending_zeros) {
      if (digits > 0) {
        mantissa *= 10;
        ++digits;
      }
    }
    mantissa = mantissa * 10 + d;
    ++digits;
    if (digits > 19)
      return Error(Errc::kOutOfRange,
                   std::string(what) + ": quantity \"" + std::string(text) + "\" is too precise");
  }
  exponent += pending_zeros;
  if (!any_digit) return Invalid(text, what);
  std::string_view suffix = s.substr(i);
  int binary = 0;  // a power of 2
  if (suffix.size() == 2 && suffix[1] == 'i') {
    static constexpr std::string_view kBinary = "KMGTPE";
    size_t k = kBinary.find(suffix[0]);
    if (k == std::string_view::npos) return Invalid(text, what);
    binary = 10 * static_cast<int>(k + 1);
  } else if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1) {
    std::string_view e = suffix.substr(1);
    char* end = nullptr;
    std::string owned(e);
    long v = std::strtol(owned.c_str(), &end, 10);
    if (*end != '\0' || owned.empty() || v > 1000 || v < -1000) return Invalid(text, what);
    exponent += static_cast<int>(v);
  } else if (suffix.size() <= 1) {
    static constexpr std::string_view kDecimal = "num kMGTPE";  // 10^-9 .. 10^18
    if (!suffix.empty()) {
      size_t k = kDecimal.find(suffix[0]);
      if (k == std::string_view::npos || suffix[0] == ' ') return Invalid(text, what);
      exponent += 3 * (static_cast<int>(k) - 3);
    }
  } else {
    return Invalid(text, what);
  }
  exponent += scale;
  Int v = mantissa << binary;
  auto too_big = [&] {
    return Error(Errc::kOutOfRange,
                 std::string(what) + ": quantity \"" + std::string(text) + "\" is too large");
  };
  if (exponent >= 0) {
    for (int k = 0; k < exponent && v != 0; ++k) {
      v *= 10;
      if (v > kMax) return too_big();
    }
  } else if (-exponent > 38) {
    v = v != 0 ? 1 : 0;
  } else {
    Int p = 1;
    for (int k = 0; k < -exponent; ++k)
      p *= 10;
    Int q = v / p;
    if (v % p != 0) ++q;
    v = q;
  }
  if (v > kMax) return too_big();
  int64_t out = static_cast<int64_t>(v);
  return negative ? -out : out;
}

std::string Decimal(int64_t milli) {
  if (milli == 0) return "0";
  static constexpr const char* kSuffix[] = {"m", "", "k", "M", "G", "T", "P", "E"};
  int k = 0;
  while (k < 7 && milli % 1000 == 0) {
    milli /= 1000;
    ++k;
  }
  return std::to_string(milli) + kSuffix[k];
}

}  // namespace

Result<int64_t> ParseQuantityMilli(std::string_view text, std::string_view what) {
  return Parse(text, what, 3);
}

Result<int64_t> ParseQuantity(std::string_view text, std::string_view what) {
  return Parse(text, what, 0);
}

std::string FormatDecimalMilli(int64_t milli) {
  if (milli < 0) return "-" + Decimal(-milli);
  return Decimal(milli);
}

std::string FormatBinarySI(int64_t value) {
  if (value > -1024 && value < 1024) return FormatDecimalMilli(value * 1000);
  static constexpr const char* kSuffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  bool negative = value < 0;
  uint64_t v = negative ? -static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  int k = 0;
  while (k < 6 && v % 1024 == 0) {
    v /= 1024;
    ++k;
  }
  return (negative ? "-" : "") + std::to_string(v) + kSuffix[k];
}

}  // namespace berth::agent
