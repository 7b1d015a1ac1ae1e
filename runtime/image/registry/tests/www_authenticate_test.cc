#include "runtime/image/registry/www_authenticate.h"

#include <gtest/gtest.h>

namespace berth::image::registry {
namespace {

TEST(WwwAuthenticateTest, DockerHubBearer) {
  auto c = ParseWwwAuthenticate(
      {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")"});
  ASSERT_TRUE(c.ok()) << c.error().str();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].scheme, "bearer");
  EXPECT_EQ((*c)[0].Param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ((*c)[0].Param("service"), "registry.docker.io");
  EXPECT_EQ((*c)[0].Param("scope"), "repository:library/busybox:pull");
  EXPECT_EQ((*c)[0].Param("error"), "");
}

TEST(WwwAuthenticateTest, SeveralChallengesAndHeaders) {
  auto c = ParseWwwAuthenticate(
      {R"(Basic realm="Registry Realm", charset="UTF-8", Bearer realm=tok , error="invalid_token")",
       "Negotiate abc+/==", "Newauth"});
  ASSERT_TRUE(c.ok()) << c.error().str();
  ASSERT_EQ(c->size(), 4u);
  EXPECT_EQ((*c)[0].scheme, "basic");
  EXPECT_EQ((*c)[0].Param("realm"), "Registry Realm");
  EXPECT_EQ((*c)[0].Param("charset"), "UTF-8");
  EXPECT_EQ((*c)[1].scheme, "bearer");
  EXPECT_EQ((*c)[1].Param("realm"), "tok");
  EXPECT_EQ((*c)[1].Param("error"), "invalid_token");
  EXPECT_EQ((*c)[2].scheme, "negotiate");
  EXPECT_EQ((*c)[2].token68, "abc+/==");
  EXPECT_EQ((*c)[3].scheme, "newauth");
  EXPECT_TRUE((*c)[3].params.empty());
}

TEST(WwwAuthenticateTest, QuotedEscapesAndCase) {
  auto c = ParseWwwAuthenticate({R"(BASIC Realm="say \"hi\", ok")"});
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_EQ((*c)[0].scheme, "basic");
  EXPECT_EQ((*c)[0].Param("realm"), "say \"hi\", ok");
}

TEST(WwwAuthenticateTest, Malformed) {
  EXPECT_FALSE(ParseWwwAuthenticate({R"(Bearer realm="unterminated)"}).ok());
  EXPECT_FALSE(ParseWwwAuthenticate({R"(Bearer realm="a" service="b")"}).ok());
  EXPECT_FALSE(ParseWwwAuthenticate({"=x"}).ok());
}

}  // namespace
}  // namespace berth::image::registry
