#include "runtime/image/registry/platform_select.h"

#include <gtest/gtest.h>

namespace berth::image::registry {
namespace {

Descriptor Entry(std::string os, std::string arch, std::string variant, char fill) {
  Descriptor d;
  d.media_type = std::string(media::kOciManifest);
  d.digest = Digest::Sha256Hex(std::string(64, fill));
  d.size = 100;
  d.platform.emplace();
  d.platform->architecture = std::move(arch);
  d.platform->os = std::move(os);
  d.platform->variant = std::move(variant);
  return d;
}

Index TestIndex() {
  Index idx;
  idx.manifests = {Entry("linux", "arm", "v6", '1'), Entry("linux", "arm64", "", '2'),
                   Entry("linux", "amd64", "", '3'), Entry("linux", "arm", "v7", '4'),
                   Entry("unknown", "unknown", "", '5')};
  idx.manifests.back().media_type = std::string(media::kOciManifest);
  return idx;
}

TEST(PlatformSelectTest, PicksTheMatch) {
  Index idx = TestIndex();
  EXPECT_EQ(SelectManifest(idx, *ParsePlatform("linux/amd64"))->digest.hex()[0], '3');
  EXPECT_EQ(SelectManifest(idx, *ParsePlatform("linux/arm64/v8"))->digest.hex()[0], '2');
  // A v7 host takes v7 over v6, whatever the order.
  EXPECT_EQ(SelectManifest(idx, *ParsePlatform("linux/arm/v7"))->digest.hex()[0], '4');
  EXPECT_EQ(SelectManifest(idx, *ParsePlatform("linux/arm/v6"))->digest.hex()[0], '1');
  EXPECT_TRUE(SelectManifest(idx, HostPlatform()).ok());
}

TEST(PlatformSelectTest, ListsWhatIsAvailable) {
  auto r = SelectManifest(TestIndex(), *ParsePlatform("linux/s390x"), "index sha256:abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_EQ(r.error().str(),
            "index sha256:abc: no manifest for platform linux/s390x; available: linux/arm/v6, "
            "linux/arm64, linux/amd64, linux/arm/v7, unknown/unknown");
  Index empty;
  EXPECT_EQ(SelectManifest(empty, *ParsePlatform("linux/amd64")).error().str(),
            "index: no manifest for platform linux/amd64 (the index lists no platforms)");
}

}  // namespace
}  // namespace berth::image::registry
