// ApplyLayer as root: owners, device nodes, xattrs in the trusted
// namespace, whiteouts and opaque directories.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/image/unpack/apply.h"
#include "runtime/image/unpack/tests/tar_builder.h"
#include "runtime/image/unpack/tests/tree_walk.h"

namespace berth::image {
namespace {

using testing::Compression;
using testing::Lstat;
using testing::TarBuilder;

std::string Xattr(const std::string& path, const std::string& name) {
  std::string value(4096, '\0');
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
  return n < 0 ? "<" + std::string(strerror(errno)) + ">" : value.substr(0, static_cast<size_t>(n));
}

class ApplyPrivTest : public ::testing::Test {
 protected:
  void SetUp() override { BERTH_REQUIRE(berth::testing::IsRoot(), "needs root"); }
  std::string NewTarget() {
    std::string dir = tmp_ / ("target" + std::to_string(targets_++));
    EXPECT_TRUE(MkdirAll(dir).ok());
    return dir;
  }
  Result<ApplyResult> Apply(const TarBuilder& layer, const std::string& target,
                            const ApplyOptions& opts = {}) {
    return ApplyLayer(testing::WriteBlob(tmp_.path(), layer.Tar(), Compression::kZstd), target,
                      opts);
  }

  berth::testing::TempDir tmp_{"berth-apply-priv"};
  int targets_ = 0;
};

TEST_F(ApplyPrivTest, OwnersDevicesModesAndXattrs) {
  TarBuilder layer;
  layer.Owner(0, 0)
      .Dir("dev", 0755)
      .Device("dev/null", S_IFCHR, 1, 3, 0666)
      .Owner(0, 6)
      .Device("dev/sda", S_IFBLK, 8, 0, 0660)
      .Owner(1000, 1001)
      .Dir("home", 02750)
      .File("home/file", "data", 04711)
      .Xattr("user.note", "hello")
      .Xattr("trusted.berth", "t")
      .Symlink("home/link", "file")
      .Owner(33, 33)
      .Fifo("home/fifo", 0620);
  std::string target = NewTarget();
  Result<ApplyResult> r = Apply(layer, target);
  ASSERT_TRUE(r.ok()) << r.error().str();

  struct stat st = Lstat(target + "/dev/null");
  EXPECT_EQ(st.st_mode, S_IFCHR | 0666);
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  st = Lstat(target + "/dev/sda");
  EXPECT_EQ(st.st_mode, S_IFBLK | 0660);
  EXPECT_EQ(st.st_rdev, makedev(8, 0));
  EXPECT_EQ(st.st_gid, 6u);
  st = Lstat(target + "/home");
  EXPECT_EQ(st.st_mode, S_IFDIR | 02750);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  st = Lstat(target + "/home/file");
  EXPECT_EQ(st.st_mode, S_IFREG | 04711);  // setuid survives the chown
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(Xattr(target + "/home/file", "user.note"), "hello");
  EXPECT_EQ(Xattr(target + "/home/file", "trusted.berth"), "t");
  st = Lstat(target + "/home/link");
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_uid, 1000u);
  st = Lstat(target + "/home/fifo");
  EXPECT_EQ(st.st_mode, S_IFIFO | 0620);
  EXPECT_EQ(st.st_uid, 33u);
}

TEST_F(ApplyPrivTest, WhiteoutsBecomeCharDevicesAndOpaqueMarkersXattrs) {
  TarBuilder layer;
  layer.Owner(0, 0)
      .Dir("etc")
      .Whiteout("etc/gone")
      .Dir("var/cache", 0700)
      .Opaque("var/cache")
      .File("var/cache/fresh", "f")
      .File("made-then-deleted", "x")
      .Whiteout("made-then-deleted")
      .Dir(".wh..wh.plnk")
      .File(".wh..wh.plnk/123.456", "aufs");
  std::string target = NewTarget();
  Result<ApplyResult> r = Apply(layer, target);
  ASSERT_TRUE(r.ok()) << r.error().str();

  struct stat st = Lstat(target + "/etc/gone");
  EXPECT_EQ(st.st_mode & S_IFMT, static_cast<mode_t>(S_IFCHR));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(PathExists(target + "/etc/.wh.gone"));
  EXPECT_EQ(Xattr(target + "/var/cache", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(Lstat(target + "/var/cache").st_mode, S_IFDIR | 0700);
  EXPECT_TRUE(PathExists(target + "/var/cache/fresh"));
  EXPECT_FALSE(PathExists(target + "/var/cache/.wh..wh..opq"));
  EXPECT_EQ(Lstat(target + "/made-then-deleted").st_rdev, makedev(0, 0));
  EXPECT_FALSE(PathExists(target + "/.wh..wh.plnk"));
}

TEST_F(ApplyPrivTest, OverlayXattrsFromTheLayerAreDropped) {
  TarBuilder layer;
  layer.Owner(0, 0)
      .Dir("d")
      .Xattr("trusted.overlay.opaque", "y")
      .Xattr("trusted.overlay.redirect", "/etc")
      .File("d/f", "x")
      .Xattr("trusted.overlay.metacopy", "");
  std::string target = NewTarget();
  Result<ApplyResult> r = Apply(layer, target);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(Xattr(target + "/d", "trusted.overlay.opaque"), "<No data available>");
  EXPECT_EQ(Xattr(target + "/d", "trusted.overlay.redirect"), "<No data available>");
  EXPECT_EQ(Xattr(target + "/d/f", "trusted.overlay.metacopy"), "<No data available>");
}

TEST_F(ApplyPrivTest, ImplicitParentsCopyOwnersFromTheLowers) {
  std::string lower = NewTarget();
  ASSERT_TRUE(
      Apply(TarBuilder().Owner(1234, 5678).Dir("srv", 0750).Xattr("user.a", "b"), lower).ok());
  std::string target = NewTarget();
  Result<ApplyResult> r =
      Apply(TarBuilder().Owner(0, 0).File("srv/new", "x"), target, {.lower_dirs = {lower}});
  ASSERT_TRUE(r.ok()) << r.error().str();
  struct stat st = Lstat(target + "/srv");
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mode, S_IFDIR | 0750);
  EXPECT_EQ(Xattr(target + "/srv", "user.a"), "b");
}

TEST_F(ApplyPrivTest, HardLinkCopyUpSeesTheMergedLowers) {
  std::string bottom = NewTarget();
  ASSERT_TRUE(Apply(TarBuilder()
                        .Owner(0, 0)
                        .Dir("a")
                        .File("a/f", "bottom")
                        .Dir("b")
                        .File("b/f", "bottom")
                        .Owner(77, 88)
                        .File("c", "owned", 0604),
                    bottom)
                  .ok());
  std::string middle = NewTarget();
  ASSERT_TRUE(Apply(TarBuilder().Owner(0, 0).Whiteout("a/f").Dir("b").Opaque("b"), middle,
                    {.lower_dirs = {bottom}})
                  .ok());
  const std::vector<std::string> lowers = {middle, bottom};

  // Whited out in the middle layer: not there to link to.
  Result<ApplyResult> r =
      Apply(TarBuilder().Hardlink("a/g", "a/f"), NewTarget(), {.lower_dirs = lowers});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound) << r.error().str();
  // Hidden by an opaque directory in the middle layer.
  r = Apply(TarBuilder().Hardlink("b/g", "b/f"), NewTarget(), {.lower_dirs = lowers});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound) << r.error().str();
  // Visible from the bottom: copied up with its owner and mode.
  std::string target = NewTarget();
  r = Apply(TarBuilder().Hardlink("c2", "c"), target, {.lower_dirs = lowers});
  ASSERT_TRUE(r.ok()) << r.error().str();
  struct stat st = Lstat(target + "/c");
  EXPECT_EQ(st.st_uid, 77u);
  EXPECT_EQ(st.st_gid, 88u);
  EXPECT_EQ(st.st_mode, S_IFREG | 0604);
  EXPECT_EQ(st.st_ino, Lstat(target + "/c2").st_ino);
  EXPECT_EQ(*ReadFile(target + "/c2"), "owned");
}

}  // namespace
}  // namespace berth::image
