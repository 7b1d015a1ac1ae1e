// subPath validation and creation.

#include "volumes/subpath.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "volumes/tests/test_util.h"

namespace berth::volumes {
namespace {

class SubPathTest : public ::testing::Test {
 protected:
  SubPathTest() {
    EXPECT_TRUE(MkdirAll(volume_).ok());
    EXPECT_EQ(::chmod(volume_.c_str(), 02770), 0);
    EXPECT_TRUE(MkdirAll(outside_).ok());
    EXPECT_TRUE(WriteFile(volume_ + "/file", "x").ok());
  }
  berth::testing::TempDir tmp_{"berth-subpath"};
  std::string volume_ = tmp_ / "volume";
  std::string outside_ = tmp_ / "outside";
};

TEST_F(SubPathTest, RefusesAbsoluteAndBacksteps) {
  Result<std::string> abs = SubPathHostPath(volume_, "/etc");
  ASSERT_FALSE(abs.ok());
  EXPECT_EQ(abs.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(abs.error().str(), "error SubPath `/etc` must not be an absolute path");
  for (std::string bad : {"..", "../outside", "a/../../outside", "a/.."}) {
    Result<std::string> r = SubPathHostPath(volume_, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().str(), "unable to provision SubPath `" + bad + "`: must not contain '..'");
  }
}

TEST_F(SubPathTest, ExistingPathsResolve) {
  EXPECT_EQ(*SubPathHostPath(volume_, "file"), volume_ + "/file");
  EXPECT_EQ(*SubPathHostPath(volume_, "./file"), volume_ + "/file");
  ASSERT_EQ(::symlink("file", (volume_ + "/alias").c_str()), 0);
  EXPECT_EQ(*SubPathHostPath(volume_, "alias"), volume_ + "/file");
}

TEST_F(SubPathTest, CreatesMissingDirectoriesWithTheVolumeMode) {
  Result<std::string> r = SubPathHostPath(volume_, "a/b");
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*r, volume_ + "/a/b");
  EXPECT_EQ(testing::Mode(volume_ + "/a"), 02770);
  EXPECT_EQ(testing::Mode(volume_ + "/a/b"), 02770);
}

TEST_F(SubPathTest, RefusesSymlinksOutOfTheVolume) {
  ASSERT_EQ(::symlink(outside_.c_str(), (volume_ + "/out").c_str()), 0);
  ASSERT_EQ(::symlink("../outside", (volume_ + "/rel").c_str()), 0);
  for (std::string sub : {"out", "out/new", "rel", "rel/x/y"}) {
    Result<std::string> r = SubPathHostPath(volume_, sub);
    ASSERT_FALSE(r.ok()) << sub;
    EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
    EXPECT_NE(r.error().str().find("subPath `" + sub + "`"), std::string::npos) << r.error().str();
  }
  // Nothing was created through them.
  EXPECT_TRUE(ListDir(outside_)->empty());
}

TEST_F(SubPathTest, RefusesDanglingSymlinks) {
  ASSERT_EQ(::symlink("/nonexistent/x", (volume_ + "/dangling").c_str()), 0);
  Result<std::string> r = SubPathHostPath(volume_, "dangling");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace berth::volumes
