#include "common/base64.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Base64Test, RoundTrips) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "user:p@ss\xff"}) {
    std::optional<std::string> back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(*Base64Decode("Zm9vYg"), "foob");  // padding optional
}

TEST(Base64Test, RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("a*bc"));
  EXPECT_FALSE(Base64Decode("abcde"));
}

}  // namespace
}  // namespace berth
