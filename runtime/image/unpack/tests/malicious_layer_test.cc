// Hostile layers: each must be refused with an error naming the entry, and
// nothing outside the snapshot directory may change. Runs unprivileged
// (the refusals happen before anything privileged would).

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/image/unpack/apply.h"
#include "runtime/image/unpack/tests/tar_builder.h"
#include "runtime/image/unpack/tests/tree_walk.h"

namespace berth::image {
namespace {

using testing::TarBuilder;

// Layout: <tmp>/layers/<n>/target (the snapshot), <tmp>/outside (must stay
// empty), <tmp>/secrets/passwd (must stay as it is). The target sits two
// levels down so "../../outside" would reach the sentinel.
class MaliciousLayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MkdirAll(outside_).ok());
    ASSERT_TRUE(MkdirAll(secrets_).ok());
    ASSERT_TRUE(WriteFile(secrets_ + "/passwd", "root:x:0:0\n", 0644).ok());
  }

  void TearDown() override {
    EXPECT_EQ(testing::ListTree(outside_), "") << "something was written outside the layer";
    EXPECT_EQ(testing::ListTree(secrets_), "passwd\n");
    EXPECT_EQ(*ReadFile(secrets_ + "/passwd"), "root:x:0:0\n");
    struct stat st {};
    ASSERT_EQ(::stat((secrets_ + "/passwd").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u) << "a hard link to a file outside the layer was made";
  }

  // Applies `layer`; returns the error text ("" when it succeeded).
  std::string Refusal(const TarBuilder& layer) {
    std::string target = tmp_ / ("layers/" + std::to_string(n_++) + "/target");
    EXPECT_TRUE(MkdirAll(target).ok());
    std::string blob = testing::WriteBlob(tmp_.path(), layer.Tar(), testing::Compression::kGzip);
    Result<ApplyResult> r = ApplyLayer(blob, target, {.layer_name = "sha256:evil"});
    return r.ok() ? "" : r.error().str();
  }

  berth::testing::TempDir tmp_{"berth-evil"};
  std::string outside_ = tmp_ / "outside";
  std::string secrets_ = tmp_ / "secrets";
  int n_ = 0;
};

TEST_F(MaliciousLayerTest, DotDotEntriesAreRefused) {
  EXPECT_EQ(Refusal(TarBuilder().File("ok", "x").File("../../etc/x", "x")),
            "layer sha256:evil: entry \"../../etc/x\": path escapes the layer");
  EXPECT_EQ(Refusal(TarBuilder().File("../../outside/x", "x")),
            "layer sha256:evil: entry \"../../outside/x\": path escapes the layer");
  EXPECT_EQ(Refusal(TarBuilder().File("a/../../../outside/x", "x")),
            "layer sha256:evil: entry \"a/../../../outside/x\": path escapes the layer");
  // (libarchive's writer ends directory names with a slash.)
  EXPECT_EQ(Refusal(TarBuilder().Dir("../../outside/d")),
            "layer sha256:evil: entry \"../../outside/d/\": path escapes the layer");
  EXPECT_EQ(Refusal(TarBuilder().Whiteout("../../outside/w")),
            "layer sha256:evil: entry \"../../outside/.wh.w\": path escapes the layer");
}

TEST_F(MaliciousLayerTest, AbsolutePathEscapesAreRefused) {
  EXPECT_EQ(Refusal(TarBuilder().File("/../../outside/x", "x")),
            "layer sha256:evil: entry \"/../../outside/x\": path escapes the layer");
  // An absolute name that stays inside is relative to the layer root.
  std::string abs_outside = outside_ + "/x";
  EXPECT_EQ(Refusal(TarBuilder().File(abs_outside, "x")), "");
}

TEST_F(MaliciousLayerTest, SymlinksAreNeverFollowedOutOfTheLayer) {
  const std::string want = "path escapes the layer through a symlink";
  EXPECT_EQ(Refusal(TarBuilder().Symlink("evil", outside_).File("evil/file", "x")),
            "layer sha256:evil: entry \"evil/file\": " + want);
  EXPECT_EQ(Refusal(TarBuilder().Symlink("evil", "../../../outside").File("evil/file", "x")),
            "layer sha256:evil: entry \"evil/file\": " + want);
  EXPECT_EQ(Refusal(TarBuilder().Dir("d").Symlink("d/up", "../..").File("d/up/x", "x")),
            "layer sha256:evil: entry \"d/up/x\": " + want);
  EXPECT_EQ(Refusal(TarBuilder().Symlink("evil", outside_).Dir("evil/sub")),
            "layer sha256:evil: entry \"evil/sub/\": " + want);
  EXPECT_EQ(Refusal(TarBuilder().Symlink("evil", outside_).Symlink("evil/l", "/")),
            "layer sha256:evil: entry \"evil/l\": " + want);
  EXPECT_EQ(Refusal(TarBuilder().Symlink("s", secrets_).Whiteout("s/passwd")),
            "layer sha256:evil: entry \"s/.wh.passwd\": " + want);
  EXPECT_EQ(Refusal(TarBuilder().Symlink("s", secrets_).Opaque("s")),
            "layer sha256:evil: entry \"s/.wh..wh..opq\": " + want);
}

TEST_F(MaliciousLayerTest, AFileOverASymlinkReplacesTheSymlink) {
  std::string target = tmp_ / "replace";
  ASSERT_TRUE(MkdirAll(target).ok());
  TarBuilder layer;
  layer.Symlink("evil", secrets_ + "/passwd").File("evil", "pwned").Symlink("d", secrets_).Dir("d");
  std::string blob = testing::WriteBlob(tmp_.path(), layer.Tar(), testing::Compression::kNone);
  Result<ApplyResult> r = ApplyLayer(blob, target, {});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*ReadFile(target + "/evil"), "pwned");
  struct stat st {};
  ASSERT_EQ(::lstat((target + "/d").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(MaliciousLayerTest, HardLinksAreConfined) {
  EXPECT_EQ(Refusal(TarBuilder().Hardlink("h", "../../outside")),
            "layer sha256:evil: entry \"h\": hard link target \"../../outside\": path escapes the "
            "layer");
  EXPECT_EQ(Refusal(TarBuilder().Hardlink("h", "/../../secrets/passwd")),
            "layer sha256:evil: entry \"h\": hard link target \"/../../secrets/passwd\": path "
            "escapes the layer");
  EXPECT_EQ(Refusal(TarBuilder().Symlink("s", secrets_).Hardlink("h", "s/passwd")),
            "layer sha256:evil: entry \"h\": hard link target \"s/passwd\": path escapes the "
            "layer through a symlink");
  // A link to a symlink links the symlink itself, never what it points at.
  std::string target = tmp_ / "linksym";
  ASSERT_TRUE(MkdirAll(target).ok());
  TarBuilder layer;
  layer.Symlink("s", secrets_ + "/passwd").Hardlink("h", "s");
  std::string blob = testing::WriteBlob(tmp_.path(), layer.Tar(), testing::Compression::kNone);
  Result<ApplyResult> r = ApplyLayer(blob, target, {});
  ASSERT_TRUE(r.ok()) << r.error().str();
  struct stat st {};
  ASSERT_EQ(::lstat((target + "/h").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

}  // namespace
}  // namespace berth::image
