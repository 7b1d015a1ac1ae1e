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

std::string FormatRfc3339(time_t seconds) {
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

std::string FormatRfc3339Nano(const timespec& ts) {
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out = base;
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
