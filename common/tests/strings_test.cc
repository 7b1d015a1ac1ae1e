#include "common/strings.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Strings, SplitKeepsEmptyFields) {
  EXPECT_EQ(Split("a::b", ':'), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(SplitNonEmpty("  a  b ", ' '), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Join({"x", "y"}, ", "), "x, y");
}

TEST(Strings, ParseIntNamesTheValue) {
  EXPECT_EQ(*ParseInt<int>(" 42\n", "pid"), 42);
  auto bad = ParseInt<int>("4x", "pid");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().str(), "pid: invalid integer \"4x\"");
  EXPECT_FALSE(ParseInt<uint8_t>("300", "byte").ok());
}

TEST(Strings, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace
}  // namespace berth
