#include "runtime/image/manifest.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

constexpr char kD1[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kD2[] = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

TEST(ManifestTest, ParsesDockerManifest) {
  std::string text = std::string(R"({"schemaVersion":2,
    "mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":")") +
                     kD1 + R"("},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":9,"digest":")" +
                     kD2 + R"("}]})";
  auto m = ParseManifest(text, "manifest x");
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_EQ(m->config.digest.str(), kD1);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 9);
  EXPECT_EQ(*DetectMediaType(text, "x"), media::kDockerManifest);
}

TEST(ManifestTest, ErrorsNameTheField) {
  std::string text =
      std::string(R"({"schemaVersion":2,"config":{"mediaType":"a","size":1,"digest":")") + kD1 +
      R"("},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":1,"digest":"sha256:zz"}]})";
  auto m = ParseManifest(text, "manifest sha256:abc");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().str().rfind("manifest sha256:abc: ", 0), 0u) << m.error().str();
  EXPECT_NE(m.error().str().find("layers[0].digest"), std::string::npos) << m.error().str();
  auto v1 = ParseManifest(R"({"schemaVersion":1})", "m");
  ASSERT_FALSE(v1.ok());
  EXPECT_NE(v1.error().str().find("schema 1"), std::string::npos);
}

TEST(ManifestTest, IndexPlatforms) {
  std::string text = std::string(R"({"schemaVersion":2,"manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":")") +
                     kD1 + R"(","platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":")" +
                     kD2 + R"(","platform":{"architecture":"amd64","os":"linux"}}]})";
  auto idx = ParseIndex(text, "index");
  ASSERT_TRUE(idx.ok()) << idx.error().str();
  ASSERT_EQ(idx->manifests.size(), 2u);
  EXPECT_EQ(idx->manifests[0].platform->String(), "linux/arm64/v8");
  EXPECT_EQ(*DetectMediaType(text, "x"), media::kOciIndex);
  Platform amd64 = *ParsePlatform("linux/amd64");
  EXPECT_FALSE(PlatformMatches(amd64, *idx->manifests[0].platform));
  EXPECT_TRUE(PlatformMatches(amd64, *idx->manifests[1].platform));
  EXPECT_TRUE(PlatformMatches(*ParsePlatform("linux/arm64"), *ParsePlatform("linux/arm64/v8")));
  EXPECT_TRUE(PlatformMatches(*ParsePlatform("linux/arm/v7"), *ParsePlatform("linux/arm/v6")));
  EXPECT_FALSE(PlatformMatches(*ParsePlatform("linux/arm/v6"), *ParsePlatform("linux/arm/v7")));
  EXPECT_FALSE(ParsePlatform("amd64").ok());
}

TEST(ManifestTest, ImageConfig) {
  std::string text = std::string(R"({"architecture":"amd64","os":"linux",
    "config":{"User":"1000:1000","Env":["PATH=/bin"],"Entrypoint":["/bin/sh","-c"],"Cmd":null,
      "WorkingDir":"/w","ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}},"StopSignal":"SIGQUIT",
      "Labels":{"a":"b"}},
    "rootfs":{"type":"layers","diff_ids":[")") +
                     kD1 + R"(",")" + kD2 + R"("]}})";
  auto c = ParseImageConfig(text, "config");
  ASSERT_TRUE(c.ok()) << c.error().str();
  EXPECT_EQ(c->user, "1000:1000");
  EXPECT_EQ(c->entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_TRUE(c->entrypoint_set);
  EXPECT_FALSE(c->cmd_set);
  EXPECT_EQ(c->exposed_ports, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(c->volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(c->stop_signal, "SIGQUIT");
  EXPECT_EQ(c->labels.at("a"), "b");
  ASSERT_EQ(c->diff_ids.size(), 2u);
  std::vector<Digest> chain = ChainIds(c->diff_ids);
  EXPECT_EQ(chain[0].str(), kD1);
  EXPECT_EQ(chain[1], Sha256Of(std::string(kD1) + " " + kD2));
}

}  // namespace
}  // namespace berth::image
