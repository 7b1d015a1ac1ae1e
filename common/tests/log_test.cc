#include "common/log.h"

#include <gtest/gtest.h>

namespace berth::log {
namespace {

TEST(Log, JsonLinesAsRuncWritesThem) {
  EXPECT_EQ(Render(Format::kJson, Level::kError, "container \"x\" failed", "2025-01-02T03:04:05Z"),
            "{\"level\":\"error\",\"msg\":\"container \\\"x\\\" "
            "failed\",\"time\":\"2025-01-02T03:04:05Z\"}\n");
}

TEST(Log, TextLinesAsLogrusWritesThem) {
  EXPECT_EQ(Render(Format::kText, Level::kWarn, "clamped", "T"),
            "time=\"T\" level=warning msg=\"clamped\"\n");
}

}  // namespace
}  // namespace berth::log
