#include "common/time.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

namespace berth {
namespace {

std::string ViaLibc(time_t seconds) {
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[48];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

TEST(TimeTest, Rfc3339MatchesGmtimeAcrossCenturiesAndLeapDays) {
  // Leap days of 2000 (a leap year) and 2100 (not one), the epoch, before it.
  for (time_t t :
       {time_t{0}, time_t{-1}, time_t{-86400 * 365}, time_t{951782400}, time_t{951868799},
        time_t{4107542400}, time_t{4107628800}, time_t{1700000000}, time_t{253402300799}}) {
    EXPECT_EQ(FormatRfc3339(t), ViaLibc(t)) << t;
  }
  for (time_t t = -5'000'000'000; t < 10'000'000'000; t += 7'777'777) {
    ASSERT_EQ(FormatRfc3339(t), ViaLibc(t)) << t;
  }
}

TEST(TimeTest, Rfc3339NanoTrimsTrailingZeros) {
  EXPECT_EQ(FormatRfc3339Nano({1700000000, 0}), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatRfc3339Nano({1700000000, 120000000}), "2023-11-14T22:13:20.12Z");
  EXPECT_EQ(FormatRfc3339Nano({1700000000, 1}), "2023-11-14T22:13:20.000000001Z");
}

}  // namespace
}  // namespace berth
