// RLIMIT_* names, ParseRlimits and ParseOomScoreAdj.

#include "runtime/oci/security/rlimits.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

namespace berth::runtime::security {
namespace {

Result<std::vector<Rlimit>> ParseText(const std::string& text) {
  auto doc = json::Parse(text, "rlimits");
  if (!doc) return std::move(doc).error();
  return ParseRlimits(json::Field(&doc.value(), "process.rlimits"));
}

std::string ErrorOf(const std::string& text) {
  auto limits = ParseText(text);
  return limits.ok() ? "<parsed>" : limits.error().str();
}

TEST(RlimitsTest, Names) {
  EXPECT_EQ(KnownRlimits().size(), 16u);
  for (const std::string& name : KnownRlimits()) {
    int resource = RlimitFromName(name);
    ASSERT_GE(resource, 0) << name;
    EXPECT_EQ(RlimitName(resource), name);
    rlimit r{};
    EXPECT_EQ(getrlimit(resource, &r), 0) << name;  // the spec's "getrlimit MUST succeed"
  }
  EXPECT_EQ(RlimitFromName("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(RlimitFromName("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  EXPECT_EQ(RlimitFromName("RLIMIT_MSGQUEUE"), RLIMIT_MSGQUEUE);
  EXPECT_EQ(RlimitFromName("NOFILE"), -1);
  EXPECT_EQ(RlimitFromName("rlimit_nofile"), -1);
  EXPECT_EQ(RlimitName(99), "99");
}

TEST(RlimitsTest, Parse) {
  auto limits = ParseText(R"([
    {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
    {"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615},
    {"type": "RLIMIT_NPROC", "hard": 100, "soft": 100, "extra": true}])");
  ASSERT_TRUE(limits.ok()) << limits.error().str();
  ASSERT_EQ(limits->size(), 3u);
  EXPECT_EQ((*limits)[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ((*limits)[0].name, "RLIMIT_NOFILE");
  EXPECT_EQ((*limits)[0].soft, 1024u);
  EXPECT_EQ((*limits)[0].hard, 4096u);
  EXPECT_EQ((*limits)[1].hard, RLIM_INFINITY);
  EXPECT_EQ((*limits)[2].resource, RLIMIT_NPROC);
}

TEST(RlimitsTest, AbsentIsEmpty) {
  auto limits = ParseRlimits(json::Field(nullptr, "process.rlimits"));
  ASSERT_TRUE(limits.ok());
  EXPECT_TRUE(limits->empty());
}

TEST(RlimitsTest, Errors) {
  EXPECT_EQ(ErrorOf("{}"), "process.rlimits: expected array, got object");
  EXPECT_EQ(ErrorOf("[1]"), "process.rlimits[0]: expected object, got number");
  EXPECT_EQ(ErrorOf(R"([{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
                        {"type": "RLIMIT_FOO", "soft": 1, "hard": 1}])"),
            "process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\"");
  EXPECT_EQ(ErrorOf(R"([{"soft": 1, "hard": 1}])"),
            "process.rlimits[0].type: required field missing");
  EXPECT_EQ(ErrorOf(R"([{"type": "RLIMIT_NOFILE", "hard": 1}])"),
            "process.rlimits[0].soft: required field missing");
  EXPECT_EQ(ErrorOf(R"([{"type": "RLIMIT_NOFILE", "soft": 1}])"),
            "process.rlimits[0].hard: required field missing");
  EXPECT_EQ(ErrorOf(R"([{"type": "RLIMIT_NOFILE", "soft": -1, "hard": 1}])"),
            "process.rlimits[0].soft: value -1 must not be negative");
  EXPECT_EQ(ErrorOf(R"([{"type": "RLIMIT_NOFILE", "soft": 1.5, "hard": 2}])"),
            "process.rlimits[0].soft: expected integer, got number");
  EXPECT_EQ(ErrorOf(R"([{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 5}])"),
            "process.rlimits[0]: RLIMIT_NOFILE: soft limit 10 is greater than hard limit 5");
  EXPECT_EQ(ErrorOf(R"([{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1},
                        {"type": "RLIMIT_CPU", "soft": 1, "hard": 1},
                        {"type": "RLIMIT_NOFILE", "soft": 2, "hard": 2}])"),
            "process.rlimits[2].type: duplicate rlimit \"RLIMIT_NOFILE\" (also at "
            "process.rlimits[0])");
}

TEST(RlimitsTest, OomScoreAdj) {
  auto parse = [](const std::string& text) -> Result<std::optional<int>> {
    auto doc = json::Parse(text, "oom");
    if (!doc) return std::move(doc).error();
    return ParseOomScoreAdj(json::Field(&doc.value(), "process.oomScoreAdj"));
  };
  EXPECT_EQ(*parse("-1000"), -1000);
  EXPECT_EQ(*parse("1000"), 1000);
  EXPECT_EQ(*parse("0"), 0);
  EXPECT_FALSE(parse("null")->has_value());
  EXPECT_EQ(parse("1001").error().str(),
            "process.oomScoreAdj: value 1001 out of range (-1000 to 1000)");
  EXPECT_EQ(parse("\"5\"").error().str(), "process.oomScoreAdj: expected integer, got string");
  EXPECT_FALSE(ParseOomScoreAdj(json::Field(nullptr, "process.oomScoreAdj"))->has_value());
  std::vector<std::string> warnings;
  Status bad = ApplyOomScoreAdj(-1001, 0, &warnings);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace berth::runtime::security
