#include "runtime/image/registry/credentials.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::image::registry {
namespace {

constexpr char kConfig[] = R"({
  "auths": {
    "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
    "127.0.0.1:5000": {"auth": "dXNlcjpwYXNz"},
    "http://registry.local:5000/v2/": {"username": "u2", "password": "p2"},
    "quay.io": {"identitytoken": "refresh-me"},
    "empty.io": {}
  },
  "credsStore": "desktop"
})";

TEST(CredentialsTest, DockerConfigLookup) {
  auto c = DockerConfig::Parse(kConfig, "config.json");
  ASSERT_TRUE(c.ok()) << c.error().str();
  for (const char* hub : {"docker.io", "registry-1.docker.io", "index.docker.io"}) {
    auto a = c->Find(hub);
    ASSERT_TRUE(a) << hub;
    EXPECT_EQ(a->username, "hub");
    EXPECT_EQ(a->password, "secret");
  }
  EXPECT_EQ(c->Find("127.0.0.1:5000")->password, "pass");
  EXPECT_EQ(c->Find("registry.local:5000")->username, "u2");
  EXPECT_EQ(c->Find("quay.io")->identity_token, "refresh-me");
  EXPECT_FALSE(c->Find("empty.io"));
  EXPECT_FALSE(c->Find("127.0.0.1:5001"));
}

TEST(CredentialsTest, BadConfigNamesTheField) {
  auto bad =
      DockerConfig::Parse(R"({"auths":{"x.io":{"auth":"!!!"}}})", "/root/.docker/config.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().str(), "/root/.docker/config.json: auths.x.io: auth is not valid base64");
  auto type = DockerConfig::Parse(R"({"auths":{"x.io":{"auth":5}}})", "cfg");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().str().find("cfg: "), std::string::npos) << type.error().str();
  EXPECT_NE(type.error().str().find("auth"), std::string::npos) << type.error().str();
}

TEST(CredentialsTest, LoadMissingIsEmpty) {
  testing::TempDir dir;
  auto c = DockerConfig::Load(dir / "config.json");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 0u);
  ASSERT_TRUE(WriteFile(dir / "config.json", kConfig).ok());
  EXPECT_EQ(DockerConfig::Load(dir / "config.json")->size(), 5u);
}

TEST(CredentialsTest, GivenCredentialsStayWithTheirRegistry) {
  auto config = std::make_shared<DockerConfig>(*DockerConfig::Parse(kConfig, "c"));
  AuthConfig given;
  given.auth = "Y3JpOmNyaXBhc3M=";  // cri:cripass
  CredentialsFn fn = MakeCredentials("docker.io", given, config);
  auto hub = fn("registry-1.docker.io");
  ASSERT_TRUE(hub.ok() && *hub);
  EXPECT_EQ((*hub)->username, "cri");
  EXPECT_EQ((*hub)->password, "cripass");
  // A mirror gets only what config.json has for it.
  EXPECT_EQ((*fn("127.0.0.1:5000"))->username, "user");
  EXPECT_FALSE(*fn("mirror.example.com"));

  CredentialsFn none = MakeCredentials("docker.io", std::nullopt, nullptr);
  EXPECT_FALSE(*none("docker.io"));
  AuthConfig garbled;
  garbled.auth = "%%";
  CredentialsFn bad = MakeCredentials("x.io", garbled, nullptr);
  EXPECT_FALSE(bad("x.io").ok());
  EXPECT_TRUE(bad("y.io").ok());
}

TEST(CredentialsTest, NormalizesHosts) {
  EXPECT_EQ(NormalizeRegistryHost("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(NormalizeRegistryHost("HTTP://Registry.Local:5000/v2/"), "registry.local:5000");
  EXPECT_EQ(NormalizeRegistryHost("quay.io"), "quay.io");
}

}  // namespace
}  // namespace berth::image::registry
