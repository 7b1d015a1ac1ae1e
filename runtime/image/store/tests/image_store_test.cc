#include "runtime/image/store/image_store.h"

#include <gtest/gtest.h>

#include "common/testing/testkit.h"

namespace berth::image {
namespace {

TEST(ImageStoreTest, PutGetListRemove) {
  testing::TempDir dir;
  auto store = ImageStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  ImageRecord r;
  r.name = "docker.io/library/busybox:latest";
  r.target.media_type = std::string(media::kOciIndex);
  r.target.digest = Sha256Of("index");
  r.target.size = 5;
  r.created = "2026-11-22T00:00:00Z";
  ASSERT_TRUE(store->Put(r).ok());
  ImageRecord other = r;
  other.name = "localhost:5000/app:v1";
  other.platform = "linux/arm64";
  ASSERT_TRUE(store->Put(other).ok());

  auto got = store->Get(r.name);
  ASSERT_TRUE(got.ok()) << got.error().str();
  EXPECT_EQ(got->target.digest, r.target.digest);
  EXPECT_EQ(got->target.media_type, r.target.media_type);
  EXPECT_EQ(got->created, r.created);
  auto all = store->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, r.name);
  EXPECT_EQ((*all)[1].platform, "linux/arm64");

  ASSERT_TRUE(store->Remove(r.name).ok());
  EXPECT_EQ(store->Get(r.name).error().code(), Errc::kNotFound);
  Status again = store->Remove(r.name);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().str(), "image \"docker.io/library/busybox:latest\" not found");
}

}  // namespace
}  // namespace berth::image
