// $(VAR) expansion against upstream's expansion cases.

#include "agent/container/expansion.h"

#include <gtest/gtest.h>

#include <map>

namespace berth::agent {
namespace {

std::string Expand(std::string_view input) {
  static const std::map<std::string, std::string, std::less<>> vars = {
      {"VAR_A", "A"}, {"VAR_B", "B"}, {"VAR_EMPTY", ""}, {"VAR_REF", "$(VAR_A)"}};
  return ExpandVars(input, [](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(ExpandVars, ReplacesDefinedVariables) {
  EXPECT_EQ(Expand("$(VAR_A)"), "A");
  EXPECT_EQ(Expand("___$(VAR_B)___"), "___B___");
  EXPECT_EQ(Expand("$(VAR_A)-$(VAR_B)-$(VAR_A)"), "A-B-A");
  EXPECT_EQ(Expand("x$(VAR_EMPTY)y"), "xy");
  // A value is not expanded again.
  EXPECT_EQ(Expand("$(VAR_REF)"), "$(VAR_A)");
}

TEST(ExpandVars, KeepsUnknownAndMalformedReferences) {
  EXPECT_EQ(Expand("$(VAR_DNE)"), "$(VAR_DNE)");
  EXPECT_EQ(Expand("$()"), "$()");
  EXPECT_EQ(Expand("$("), "$(");
  EXPECT_EQ(Expand("$(VAR_A"), "$(VAR_A");
  EXPECT_EQ(Expand("$VAR_A"), "$VAR_A");
  EXPECT_EQ(Expand("$"), "$");
  EXPECT_EQ(Expand("foo$"), "foo$");
  EXPECT_EQ(Expand("$(VAR_A)$"), "A$");
  EXPECT_EQ(Expand("$)"), "$)");
  EXPECT_EQ(Expand("$(VAR_A)$(VAR_A"), "A$(VAR_A");
  EXPECT_EQ(Expand(""), "");
  EXPECT_EQ(Expand("no refs"), "no refs");
}

TEST(ExpandVars, DollarDollarEscapes) {
  EXPECT_EQ(Expand("$$"), "$");
  EXPECT_EQ(Expand("$$$$"), "$$");
  EXPECT_EQ(Expand("$$(VAR_A)"), "$(VAR_A)");
  EXPECT_EQ(Expand("$$$(VAR_A)"), "$A");
  EXPECT_EQ(Expand("$$$$$$(VAR_A)"), "$$$(VAR_A)");
  EXPECT_EQ(Expand("f$$oo"), "f$oo");
}

TEST(ExpandAll, UsesTheLastDefinitionOfEachName) {
  boost::json::array args = {"echo", "$(A)", "$(B)", "$(C)", 7};
  std::vector<EnvVar> env = {{"A", "first"}, {"B", "b"}, {"A", "second"}};
  EXPECT_EQ(ExpandAll(args, env), (std::vector<std::string>{"echo", "second", "b", "$(C)"}));
}

TEST(ExpandSubPathExpr, NamesMissingOrEmptyVariables) {
  std::vector<EnvVar> env = {{"POD", "web-0"}, {"EMPTY", ""}};
  Result<std::string> ok = ExpandSubPathExpr("logs/$(POD)", env);
  ASSERT_TRUE(ok.ok()) << ok.error().str();
  EXPECT_EQ(*ok, "logs/web-0");
  Result<std::string> bad = ExpandSubPathExpr("$(ZED)/$(EMPTY)/$(ZED)", env);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "missing value for EMPTY, ZED");
}

}  // namespace
}  // namespace berth::agent
