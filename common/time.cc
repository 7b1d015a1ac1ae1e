#include "common/time.h"

#include <cstdio>

namespace berth {

timespec WallClockNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts;
}

int64_t MonotonicNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

// "YYYY-MM-DDTHH:MM:SS" in UTC. Plain arithmetic (days to civil date, as in
// Howard Hinnant's chrono algorithms) rather than gmtime_r + strftime: those
// pull glibc's time zone and scanf code into the static berth-shim, and
// every CRI log line is stamped here.
std::string FormatUtcSeconds(time_t seconds) {
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  days += 719468;  // from 1970-01-01 to 0000-03-01
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[48];
  snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
           static_cast<long long>(year), static_cast<long long>(month), static_cast<long long>(day),
           static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
           static_cast<long long>(rem % 60));
  return buf;
}

}  // namespace

std::string FormatRfc3339(time_t seconds) {
  return FormatUtcSeconds(seconds) + "Z";
}

std::string FormatRfc3339Nano(const timespec& ts) {
  std::string out = FormatUtcSeconds(ts.tv_sec);
  if (ts.tv_nsec != 0) {
    char frac[16];
    snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
    std::string f = frac;
    while (f.back() == '0')
      f.pop_back();
    out += f;
  }
  return out + "Z";
}

}  // namespace berth
