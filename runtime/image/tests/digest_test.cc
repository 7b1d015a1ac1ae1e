#include "runtime/image/digest.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::image {
namespace {

constexpr char kEmpty[] = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(DigestTest, KnownValues) {
  EXPECT_EQ(Sha256Of("").str(), kEmpty);
  EXPECT_EQ(Sha256Of("abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Finish(), Sha256Of("abc"));
  EXPECT_EQ(h.Finish().str(), kEmpty);  // reset after Finish
}

TEST(DigestTest, ParseAcceptsCanonicalFormsOnly) {
  auto d = Digest::Parse(kEmpty);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->algorithm(), "sha256");
  EXPECT_EQ(d->str(), kEmpty);
  std::string upper = kEmpty;
  upper[10] = 'B';
  for (const std::string& bad : {std::string("sha256:abc"), std::string("e3b0c442"), upper,
                                 std::string("md5:d41d8cd98f00b204e9800998ecf8427e")}) {
    auto r = Digest::Parse(bad, "layers[0].digest");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().str().rfind("layers[0].digest: invalid digest", 0), 0u) << r.error().str();
  }
}

TEST(DigestTest, FileDigest) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFile(dir / "f", "abc").ok());
  auto d = Sha256OfFile(dir / "f");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Sha256Of("abc"));
  auto missing = Sha256OfFile(dir / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().str().find(dir / "missing"), std::string::npos);
}

}  // namespace
}  // namespace berth::image
