#include "common/json.h"

#include <gtest/gtest.h>

namespace berth::json {
namespace {

TEST(Json, FieldErrorsNameThePath) {
  auto doc = Parse(R"({"process":{"args":["sh", 3],"user":{"uid":-1}}})", "config.json");
  ASSERT_TRUE(doc.ok());
  Field root(&*doc, "");
  auto args = root["process"]["args"].StringArray();
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.error().str(), "process.args[1]: expected string, got number");
  auto uid = root["process"]["user"]["uid"].Int<uint32_t>();
  EXPECT_EQ(uid.error().str(), "process.user.uid: value -1 must not be negative");
  EXPECT_FALSE(root["process"]["cwd"].present());
  EXPECT_EQ(root["process"]["cwd"].String().error().str(), "process.cwd: required field missing");
}

TEST(Json, MapItemsParsesEachAndStopsAtTheFirstError) {
  auto doc = Parse(R"({"ok":[{"n":1},{"n":2}],"bad":[{"n":1},{"n":"x"}]})", "doc");
  ASSERT_TRUE(doc.ok());
  Field root(&*doc, "");
  auto n = [](const Field& f) { return f["n"].Int<int>(); };
  auto ok = root["ok"].MapItems(n);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<int>{1, 2}));
  EXPECT_TRUE(root["missing"].MapItems(n)->empty());
  auto bad = root["bad"].MapItems(n);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().str(), "bad[1].n: expected integer, got string");
}

TEST(Json, ParseErrorNamesLine) {
  auto doc = Parse("{\n\"a\": 1,\n}", "config.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().str().find("config.json: invalid JSON at line 3"), std::string::npos)
      << doc.error().str();
}

TEST(Json, NullIsAbsent) {
  auto doc = Parse(R"({"a":null,"b":{"k":"v"}})", "x");
  Field root(&*doc, "");
  EXPECT_FALSE(root["a"].present());
  EXPECT_TRUE(root["a"].StringArray()->empty());
  auto map = root["b"].StringMap();
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->at(0).second, "v");
}

}  // namespace
}  // namespace berth::json
