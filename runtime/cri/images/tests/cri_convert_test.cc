// runtime.v1.Image fields and the verbose info, as containerd fills them.

#include "runtime/cri/images/cri_convert.h"

#include <gtest/gtest.h>

#include "common/json.h"

namespace berth::cri {
namespace {

TEST(UserFromImageTest, NumericIsUidOtherwiseUsername) {
  struct Case {
    const char* user;
    std::optional<int64_t> uid;
    const char* username;
  };
  const Case cases[] = {
      {"", std::nullopt, ""},
      {"0", 0, ""},
      {"1000", 1000, ""},
      {"1000:1000", 1000, ""},
      {"65534:users", 65534, ""},
      {"nobody", std::nullopt, "nobody"},
      {"www-data:www-data", std::nullopt, "www-data"},
      {"12a", std::nullopt, "12a"},
      {"+7", 7, ""},
      {"++7", std::nullopt, "++7"},
      {"+", std::nullopt, "+"},
      {"-1", -1, ""},
      {":100", std::nullopt, ""},
      {"99999999999999999999", std::nullopt, "99999999999999999999"},
  };
  for (const Case& c : cases) {
    ImageUser u = UserFromImage(c.user);
    EXPECT_EQ(u.uid, c.uid) << c.user;
    EXPECT_EQ(u.username, c.username) << c.user;
  }
}

CatalogImage MakeImage(const std::string& user) {
  auto meta = std::make_shared<ImageMeta>();
  meta->id = "sha256:" + std::string(64, 'c');
  meta->chain_id = img::Sha256Of("chain");
  meta->size = 12345;
  meta->config.user = user;
  meta->config_json = R"({"architecture":"amd64","os":"linux","config":{"User":")" + user +
                      R"(","Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":[]},)"
                      R"("container_config":{"Hostname":"x"},"docker_version":"1.0","history":[]})";
  CatalogImage image;
  image.meta = meta;
  image.repo_tags = {"docker.io/library/busybox:latest"};
  image.repo_digests = {"docker.io/library/busybox@sha256:" + std::string(64, 'd')};
  return image;
}

TEST(FillCriImageTest, Fields) {
  ::runtime::v1::Image out;
  FillCriImage(MakeImage("1000:1000"), /*pinned=*/true, &out);
  EXPECT_EQ(out.id(), "sha256:" + std::string(64, 'c'));
  ASSERT_EQ(out.repo_tags_size(), 1);
  EXPECT_EQ(out.repo_tags(0), "docker.io/library/busybox:latest");
  ASSERT_EQ(out.repo_digests_size(), 1);
  EXPECT_EQ(out.size(), 12345u);
  ASSERT_TRUE(out.has_uid());
  EXPECT_EQ(out.uid().value(), 1000);
  EXPECT_EQ(out.username(), "");
  EXPECT_EQ(out.spec().image(), out.id());
  EXPECT_TRUE(out.pinned());

  ::runtime::v1::Image named;
  FillCriImage(MakeImage("nobody"), false, &named);
  EXPECT_FALSE(named.has_uid());
  EXPECT_EQ(named.username(), "nobody");
  EXPECT_FALSE(named.pinned());

  // uid 0 is set (Int64Value distinguishes it from "unset").
  ::runtime::v1::Image root;
  FillCriImage(MakeImage("0"), false, &root);
  ASSERT_TRUE(root.has_uid());
  EXPECT_EQ(root.uid().value(), 0);
}

TEST(VerboseInfoTest, ChainIdAndImageSpecFields) {
  std::string info = VerboseInfo(MakeImage("nobody"));
  auto parsed = json::Parse(info, "info");
  ASSERT_TRUE(parsed.ok()) << parsed.error().str();
  const auto& o = parsed->as_object();
  EXPECT_EQ(o.at("chainID").as_string(), img::Sha256Of("chain").str());
  const auto& spec = o.at("imageSpec").as_object();
  EXPECT_EQ(spec.at("architecture").as_string(), "amd64");
  EXPECT_EQ(spec.at("config").as_object().at("User").as_string(), "nobody");
  EXPECT_TRUE(spec.contains("rootfs"));
  EXPECT_TRUE(spec.contains("history"));
  // Not image-spec fields: dropped, as containerd's re-encoding drops them.
  EXPECT_FALSE(spec.contains("container_config"));
  EXPECT_FALSE(spec.contains("docker_version"));
}

}  // namespace
}  // namespace berth::cri
