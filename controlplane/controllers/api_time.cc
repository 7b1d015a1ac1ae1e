#include "controlplane/controllers/api_time.h"

#include <cctype>
#include <cstdio>

#include "common/time.h"

namespace berth::controlplane::controllers {
namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<WallTime> ParseApiTime(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, h) ||
      s[13] != ':' || !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t at = 19;
  int64_t nanos = 0;
  if (s[at] == '.') {
    int64_t scale = 100000000;
    ++at;
    size_t start = at;
    for (; at < s.size() && std::isdigit(static_cast<unsigned char>(s[at])); ++at) {
      nanos += (s[at] - '0') * scale;
      scale /= 10;
    }
    if (at == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh = 0, om = 0;
    if (!Digits(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' ||
        !Digits(s, at + 4, 2, om)) {
      return std::nullopt;
    }
    offset = (s[at] == '+' ? 1 : -1) * (int64_t{oh} * 3600 + int64_t{om} * 60);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  int64_t seconds =
      DaysFromCivil(y, mo, d) * 86400 + int64_t{h} * 3600 + int64_t{mi} * 60 + sec - offset;
  return WallTime(std::chrono::duration_cast<WallClock::duration>(std::chrono::seconds(seconds) +
                                                                  std::chrono::nanoseconds(nanos)));
}

std::string ApiTime(WallTime t) {
  return FormatRfc3339(
      static_cast<time_t>(std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count()));
}

}  // namespace berth::controlplane::controllers
