// Quantities, Go durations and eviction thresholds as the agent's
// configuration reads them.

#include "agent/config/quantity.h"

#include <gtest/gtest.h>

#include "agent/config/duration.h"
#include "agent/config/eviction.h"

namespace berth::agent {
namespace {

int64_t Milli(const char* s) {
  auto r = ParseQuantityMilli(s, "q");
  EXPECT_TRUE(r.ok()) << s << ": " << r.error().str();
  return r.ok() ? *r : -999;
}
int64_t Units(const char* s) {
  auto r = ParseQuantity(s, "q");
  EXPECT_TRUE(r.ok()) << s << ": " << r.error().str();
  return r.ok() ? *r : -999;
}

TEST(QuantityTest, ParsesEveryForm) {
  EXPECT_EQ(Milli("100m"), 100);
  EXPECT_EQ(Milli("1.5"), 1500);
  EXPECT_EQ(Milli("2"), 2000);
  EXPECT_EQ(Milli("0.1"), 100);
  EXPECT_EQ(Milli(".5"), 500);
  EXPECT_EQ(Milli("1k"), 1000000);
  EXPECT_EQ(Milli("2e3"), 2000000);
  EXPECT_EQ(Milli("1500u"), 2);  // 1.5m rounds away from zero
  EXPECT_EQ(Units("64Mi"), 64LL << 20);
  EXPECT_EQ(Units("1Gi"), 1LL << 30);
  EXPECT_EQ(Units("1.5Gi"), 3LL << 29);
  EXPECT_EQ(Units("1G"), 1000000000);
  EXPECT_EQ(Units("100m"), 1);
  EXPECT_EQ(Units("0"), 0);
  EXPECT_EQ(Units("-1Ki"), -1024);
  EXPECT_EQ(Units("1000000"), 1000000);
  EXPECT_EQ(Units("7Ei"), 7LL << 60);
}

TEST(QuantityTest, RejectsWhatIsNoQuantity) {
  for (const char* bad : {"", "abc", "1.2.3", "1Xi", "1 Gi", "Mi", "1ki", "--1", "1e"}) {
    auto r = ParseQuantity(bad, "systemReserved[memory]");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().str().find("systemReserved[memory]"), std::string::npos);
    }
  }
  auto big = ParseQuantity("16Ei", "q");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code(), Errc::kOutOfRange);
}

TEST(QuantityTest, FormatsCanonically) {
  EXPECT_EQ(FormatDecimalMilli(0), "0");
  EXPECT_EQ(FormatDecimalMilli(3900), "3900m");
  EXPECT_EQ(FormatDecimalMilli(4000), "4");
  EXPECT_EQ(FormatDecimalMilli(110000), "110");
  EXPECT_EQ(FormatDecimalMilli(1000000), "1k");
  EXPECT_EQ(FormatBinarySI(0), "0");
  EXPECT_EQ(FormatBinarySI(1000), "1k");  // under 1024: decimal, as upstream
  EXPECT_EQ(FormatBinarySI(1536), "1536");
  EXPECT_EQ(FormatBinarySI(2048), "2Ki");
  EXPECT_EQ(FormatBinarySI(2LL << 30), "2Gi");
  EXPECT_EQ(FormatBinarySI(16318024LL * 1024), "16318024Ki");
  EXPECT_EQ(FormatBinarySI(1000LL << 20), "1000Mi");
}

TEST(DurationTest, ParsesGoDurations) {
  using namespace std::chrono_literals;
  EXPECT_EQ(*ParseGoDuration("1m", "d"), 60s);
  EXPECT_EQ(*ParseGoDuration("1m30s", "d"), 90s);
  EXPECT_EQ(*ParseGoDuration("1.5h", "d"), 90min);
  EXPECT_EQ(*ParseGoDuration("300ms", "d"), 300ms);
  EXPECT_EQ(*ParseGoDuration("0", "d"), 0s);
  EXPECT_EQ(*ParseGoDuration("2h45m0.5s", "d"), 2h + 45min + 500ms);
  for (const char* bad : {"", "1", "m", "1x", "1.2.3s", "s1"}) {
    auto r = ParseGoDuration(bad, "syncFrequency");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().str().find("syncFrequency"), std::string::npos);
    }
  }
}

TEST(EvictionTest, ParsesThresholds) {
  auto t = ParseEvictionThresholds(
      {{"memory.available", "200Mi"}, {"nodefs.available", "5%"}, {"imagefs.available", "0%"}},
      "evictionHard");
  ASSERT_TRUE(t.ok()) << t.error().str();
  ASSERT_EQ(t->size(), 2U) << "0% disables a signal";
  EXPECT_EQ((*t)[0].quantity, 200LL << 20);
  EXPECT_FALSE((*t)[0].is_percentage);
  EXPECT_TRUE((*t)[1].is_percentage);
  EXPECT_EQ((*t)[1].Resolve(1000), 50);
  auto bad = ParseEvictionThresholds({{"memory.free", "1Gi"}}, "evictionHard");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().str().find("evictionHard[memory.free]: unsupported eviction signal"),
            std::string::npos)
      << bad.error().str();
  EXPECT_FALSE(ParseEvictionThresholds({{"nodefs.available", "120%"}}, "e").ok());
  EXPECT_FALSE(ParseEvictionThresholds({{"nodefs.available", "-1Gi"}}, "e").ok());
  EXPECT_FALSE(ParseEvictionThresholds({{"nodefs.available", "x%"}}, "e").ok());
}

TEST(EvictionTest, DefaultsAreUpstreams) {
  std::vector<EvictionThreshold> d = DefaultEvictionHard();
  ASSERT_NE(FindThreshold(d, kSignalMemoryAvailable), nullptr);
  EXPECT_EQ(FindThreshold(d, kSignalMemoryAvailable)->quantity, 100LL << 20);
  EXPECT_FLOAT_EQ(FindThreshold(d, kSignalNodeFsAvailable)->percentage, 0.10F);
  EXPECT_FLOAT_EQ(FindThreshold(d, kSignalImageFsAvailable)->percentage, 0.15F);
  EXPECT_FLOAT_EQ(FindThreshold(d, kSignalNodeFsInodesFree)->percentage, 0.05F);
  EXPECT_EQ(FindThreshold(d, kSignalPidAvailable), nullptr);
}

}  // namespace
}  // namespace berth::agent
