#include "common/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/testing/testkit.h"

namespace berth {
namespace {

TEST(File, AtomicWriteReplacesAndLeavesNoTemp) {
  testing::TempDir dir;
  std::string path = dir / "state.json";
  ASSERT_TRUE(WriteFileAtomic(path, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "two", 0600).ok());
  EXPECT_EQ(*ReadFile(path), "two");
  EXPECT_EQ(ListDir(dir.path())->size(), 1u);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(File, MissingFileErrorNamesPath) {
  auto r = ReadFile("/nonexistent/berth");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_NE(r.error().str().find("`/nonexistent/berth`"), std::string::npos);
}

TEST(File, MkdirAllAndRemoveAll) {
  testing::TempDir dir;
  std::string deep = dir / "a/b/c";
  ASSERT_TRUE(MkdirAll(deep).ok());
  ASSERT_TRUE(WriteFile(deep + "/f", "x").ok());
  ASSERT_TRUE(RemoveAll(dir / "a").ok());
  EXPECT_FALSE(PathExists(dir / "a"));
  EXPECT_TRUE(RemoveAll(dir / "a").ok());  // missing is fine
}

TEST(File, PathHelpers) {
  EXPECT_EQ(CleanPath("a//b/../c/."), "a/c");
  EXPECT_EQ(CleanPath("/../x"), "/x");
  EXPECT_EQ(CleanPath("../x"), "../x");
  EXPECT_EQ(Dirname("/a/b/"), "/a");
  EXPECT_EQ(Basename("/a/b/"), "b");
  EXPECT_EQ(PathJoin("/a/", "/b"), "/a/b");
}

}  // namespace
}  // namespace berth
