#include "common/quantity.h"

#include <algorithm>
#include <array>
#include <limits>
#include <string>

namespace berth {
namespace {

using Int128 = __int128;

// Suffixes of resource.Quantity: decimal SI (power of ten) and binary SI
// (power of two).
struct Suffix {
  std::string_view text;
  int exp10;
  int exp2;
};
constexpr std::array<Suffix, 16> kSuffixes = {{{"", 0, 0},
                                               {"n", -9, 0},
                                               {"u", -6, 0},
                                               {"m", -3, 0},
                                               {"k", 3, 0},
                                               {"M", 6, 0},
                                               {"G", 9, 0},
                                               {"T", 12, 0},
                                               {"P", 15, 0},
                                               {"E", 18, 0},
                                               {"Ki", 0, 10},
                                               {"Mi", 0, 20},
                                               {"Gi", 0, 30},
                                               {"Ti", 0, 40},
                                               {"Pi", 0, 50},
                                               {"Ei", 0, 60}}};

// The exponent of a suffix ("k", "Mi", "e3"), false when it is none.
bool ReadSuffix(std::string_view s, int& exp10, int& exp2) {
  for (const Suffix& suffix : kSuffixes) {
    if (s == suffix.text) {
      exp10 = suffix.exp10;
      exp2 = suffix.exp2;
      return true;
    }
  }
  if (s.size() < 2 || (s[0] != 'e' && s[0] != 'E')) return false;
  size_t i = 1;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  if (i == s.size()) return false;
  int value = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    // Beyond any int64 either way; the caller reports range or rounds.
    value = std::min(value * 10 + (s[i] - '0'), 100000);
  }
  exp10 = negative ? -value : value;
  exp2 = 0;
  return true;
}

Int128 Pow10(int n) {
  Int128 p = 1;
  while (n-- > 0)
    p *= 10;
  return p;
}

}  // namespace

Result<int64_t> ParseQuantity(std::string_view text, bool milli_out) {
  auto bad = [&](std::string_view why) {
    return Error(Errc::kInvalidArgument, "\"" + std::string(text) + "\" " + std::string(why));
  };
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  // The mantissa as its significant digits and a power of ten.
  std::string digits;
  int frac_len = 0;
  bool seen_digit = false;
  bool seen_point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !seen_point) {
      seen_point = true;
    } else if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (seen_point) ++frac_len;
      if (!digits.empty() || c != '0') digits += c;
    } else {
      break;
    }
  }
  if (!seen_digit) return bad("is not a quantity");
  int exp10 = 0;
  int exp2 = 0;
  if (!ReadSuffix(text.substr(i), exp10, exp2)) return bad("is not a quantity");
  exp10 += (milli_out ? 3 : 0) - frac_len;
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++exp10;
  }
  if (digits.empty()) return int64_t{0};

  // value = digits * 10^exp10 * 2^exp2, rounded up. It is at least
  // 10^(size + exp10 - 1), so past 19 digits it cannot fit an int64.
  auto size = static_cast<int>(digits.size());
  if (size + exp10 > 19) return bad("is out of range");
  bool sticky = false;  // digits dropped below: round up
  if (size > 20) {
    // Then exp10 < 0: keep 20 digits so that digits * 2^60 fits 128 bits.
    exp10 += size - 20;
    digits.resize(20);
    sticky = true;
  }
  Int128 mantissa = 0;
  for (char c : digits)
    mantissa = mantissa * 10 + (c - '0');
  Int128 value = 0;
  if (exp10 >= 0) {
    value = (mantissa * Pow10(exp10)) << exp2;
  } else if (-exp10 > 38) {
    value = 1;  // below one, above zero
  } else {
    Int128 scaled = mantissa << exp2;
    Int128 divisor = Pow10(-exp10);
    value = scaled / divisor + ((scaled % divisor != 0 || sticky) ? 1 : 0);
  }
  if (value > std::numeric_limits<int64_t>::max()) return bad("is out of range");
  auto out = static_cast<int64_t>(value);
  return negative ? -out : out;
}

}  // namespace berth
