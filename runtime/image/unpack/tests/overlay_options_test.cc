#include <gtest/gtest.h>

#include "runtime/image/unpack/overlay.h"

namespace berth::image {
namespace {

TEST(LegacyOverlayOptions, ShortListsUseAbsolutePathsWithEscapes) {
  Result<LegacyOverlayData> d =
      LegacyOverlayOptions({"/s/a", "/s/b:c", "/s/d,e"}, "/u/up", "/u/work", 4095);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chdir, "");
  EXPECT_EQ(d->data, "lowerdir=/s/a:/s/b\\:c:/s/d\\,e,upperdir=/u/up,workdir=/u/work,index=off");
  d = LegacyOverlayOptions({"/s/a", "/s/b"}, "", "", 4095);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->data, "lowerdir=/s/a:/s/b");
}

TEST(LegacyOverlayOptions, LongListsAreRelativeToTheCommonAncestor) {
  std::string root = "/var/lib/berth/" + std::string(100, 'r') + "/snapshots";
  std::vector<std::string> lowers;
  lowers.reserve(40);
  for (int i = 0; i < 40; ++i)
    lowers.push_back(root + "/" + std::to_string(i) + "/fs");
  Result<LegacyOverlayData> d =
      LegacyOverlayOptions(lowers, root + "/c/upper", root + "/c/work", 4095);
  ASSERT_TRUE(d.ok()) << d.error().str();
  EXPECT_EQ(d->chdir, root);
  EXPECT_TRUE(d->data.starts_with("lowerdir=0/fs:1/fs:2/fs:")) << d->data;
  EXPECT_TRUE(d->data.ends_with(":39/fs,upperdir=c/upper,workdir=c/work,index=off")) << d->data;
}

TEST(LegacyOverlayOptions, TooLongEvenRelativeIsAClearError) {
  std::vector<std::string> lowers;
  lowers.reserve(100);
  for (int i = 0; i < 100; ++i)
    lowers.push_back("/s/" + std::string(60, 'x') + std::to_string(i));
  Result<LegacyOverlayData> d = LegacyOverlayOptions(lowers, "", "", 4095);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::kResourceExhausted);
  EXPECT_NE(d.error().str().find("lowerdir+"), std::string::npos);
}

}  // namespace
}  // namespace berth::image
