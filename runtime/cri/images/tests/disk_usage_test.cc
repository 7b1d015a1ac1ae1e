// du-style measurement of a tree and its cache.

#include "runtime/cri/images/disk_usage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::cri {
namespace {

uint64_t Blocks(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(MeasureTreeTest, CountsEveryObjectOnceWithHardLinksOnce) {
  berth::testing::TempDir dir("berth-du");
  std::string t = dir / "tree";
  ASSERT_TRUE(MkdirAll(t + "/a/b").ok());
  ASSERT_TRUE(WriteFile(t + "/a/big", std::string(100000, 'x')).ok());
  ASSERT_TRUE(WriteFile(t + "/a/b/small", "hello").ok());
  ASSERT_EQ(::link((t + "/a/big").c_str(), (t + "/a/b/big-link").c_str()), 0);
  ASSERT_EQ(::symlink("big", (t + "/a/sym").c_str()), 0);
  Result<DiskUsage> u = MeasureTree(t);
  ASSERT_TRUE(u.ok()) << u.error().str();
  // tree, a, a/b, big (+ its link), small, sym
  EXPECT_EQ(u->inodes, 6u);
  uint64_t expected = Blocks(t) + Blocks(t + "/a") + Blocks(t + "/a/b") + Blocks(t + "/a/big") +
                      Blocks(t + "/a/b/small") + Blocks(t + "/a/sym");
  EXPECT_EQ(u->bytes, expected);
  EXPECT_GE(u->bytes, 100000u);

  Result<DiskUsage> missing = MeasureTree(dir / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_NE(missing.error().str().find(dir / "nope"), std::string::npos);
}

TEST(CachedUsageTest, ReusesASampleUntilTtlOrInvalidate) {
  berth::testing::TempDir dir("berth-du-cache");
  ASSERT_TRUE(WriteFile(dir / "one", std::string(8192, 'x')).ok());
  CachedUsage cache(dir.path(), std::chrono::milliseconds(300));
  Result<UsageSample> first = cache.Get();
  ASSERT_TRUE(first.ok()) << first.error().str();
  EXPECT_GT(first->timestamp_ns, 1'600'000'000'000'000'000);
  ASSERT_TRUE(WriteFile(dir / "two", std::string(8192, 'x')).ok());
  Result<UsageSample> cached = cache.Get();
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->usage.inodes, first->usage.inodes);
  EXPECT_EQ(cached->timestamp_ns, first->timestamp_ns);
  cache.Invalidate();
  Result<UsageSample> fresh = cache.Get();
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->usage.inodes, first->usage.inodes + 1);
  ASSERT_TRUE(WriteFile(dir / "three", "x").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  Result<UsageSample> expired = cache.Get();
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(expired->usage.inodes, first->usage.inodes + 2);
}

}  // namespace
}  // namespace berth::cri
