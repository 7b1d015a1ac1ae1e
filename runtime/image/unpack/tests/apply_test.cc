// ApplyLayer without privileges: every member is owned by the caller, so
// lchown succeeds; devices, whiteouts and other owners are in the priv test.

#include "runtime/image/unpack/apply.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/image/unpack/tests/tar_builder.h"
#include "runtime/image/unpack/tests/tree_walk.h"

namespace berth::image {
namespace {

using testing::Compression;
using testing::Lstat;
using testing::TarBuilder;

std::string Readlink(const std::string& path) {
  std::string buf(4096, '\0');
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  return n < 0 ? "" : buf.substr(0, static_cast<size_t>(n));
}

class ApplyTest : public ::testing::Test {
 protected:
  // A fresh, empty snapshot directory.
  std::string NewTarget() {
    std::string dir = tmp_ / ("target" + std::to_string(targets_++));
    EXPECT_TRUE(MkdirAll(dir).ok());
    return dir;
  }
  std::string Blob(const TarBuilder& layer, Compression c = Compression::kNone) {
    return testing::WriteBlob(tmp_.path(), layer.Tar(), c);
  }
  Result<ApplyResult> Apply(const TarBuilder& layer, const std::string& target,
                            const ApplyOptions& opts = {}) {
    return ApplyLayer(Blob(layer), target, opts);
  }

  berth::testing::TempDir tmp_{"berth-apply"};
  int targets_ = 0;
};

TarBuilder SampleLayer(const std::string& big) {
  TarBuilder layer;
  layer.Dir("etc", 0755)
      .File("etc/hostname", "box\n", 0644)
      .File("etc/shadow", "root:*:\n", 0600)
      .Dir("usr/", 0755)
      .Dir("usr/bin", 0755)
      .File("usr/bin/tool", "#!/bin/sh\n", 04755)
      .Hardlink("usr/bin/tool-alias", "usr/bin/tool")
      .Symlink("usr/bin/sh", "tool")
      .Dir("tmp", 01777)
      .Fifo("tmp/pipe", 0600)
      .File("/abs/leading/slash", "ok", 0640)
      .File("big.bin", big, 0644)
      .Xattr("user.berth.test", "value");
  return layer;
}

std::string RandomBytes(size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (char& c : s)
    c = static_cast<char>(rng());
  return s;
}

TEST_F(ApplyTest, DiffIdIsSha256OfThePlainTarForEveryCompression) {
  std::string big = RandomBytes(3 * 1024 * 1024 + 17);
  TarBuilder layer = SampleLayer(big);
  const std::string tar = layer.Tar();
  const Digest want = Sha256Of(tar);
  for (auto [c, name] :
       {std::pair{Compression::kNone, "none"}, std::pair{Compression::kGzip, "gzip"},
        std::pair{Compression::kZstd, "zstd"}}) {
    SCOPED_TRACE(name);
    std::string target = NewTarget();
    Result<ApplyResult> r = ApplyLayer(testing::WriteBlob(tmp_.path(), tar, c), target, {});
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_EQ(r->diff_id, want);
    EXPECT_EQ(r->compression, name);
    EXPECT_EQ(r->tar_bytes, tar.size());
    EXPECT_EQ(r->unpacked_bytes, 4 + 8 + 10 + 2 + big.size());

    EXPECT_EQ(*ReadFile(target + "/etc/hostname"), "box\n");
    EXPECT_EQ(Lstat(target + "/etc/shadow").st_mode, S_IFREG | 0600);
    EXPECT_EQ(Lstat(target + "/usr/bin/tool").st_mode, S_IFREG | 04755);
    EXPECT_EQ(Lstat(target + "/usr/bin/tool").st_ino, Lstat(target + "/usr/bin/tool-alias").st_ino);
    EXPECT_EQ(Readlink(target + "/usr/bin/sh"), "tool");
    EXPECT_EQ(Lstat(target + "/tmp").st_mode, S_IFDIR | 01777);
    EXPECT_EQ(Lstat(target + "/tmp/pipe").st_mode, S_IFIFO | 0600);
    EXPECT_EQ(*ReadFile(target + "/abs/leading/slash"), "ok");
    EXPECT_EQ(*ReadFile(target + "/big.bin"), big);
    EXPECT_EQ(Lstat(target + "/etc/hostname").st_mtim.tv_sec, 1700000000);
    EXPECT_EQ(Lstat(target + "/usr/bin/sh").st_mtim.tv_sec, 1700000000);
  }
}

TEST_F(ApplyTest, DirectoryTimesAreSetAfterTheirContent) {
  TarBuilder layer;
  layer.Mtime(1111111111)
      .Dir("d")
      .Mtime(1200000000)
      .File("d/f", "x")
      .Dir("d/sub")
      .File("d/sub/g", "y");
  std::string target = NewTarget();
  ASSERT_TRUE(Apply(layer, target).ok());
  EXPECT_EQ(Lstat(target + "/d").st_mtim.tv_sec, 1111111111);
  EXPECT_EQ(Lstat(target + "/d/sub").st_mtim.tv_sec, 1200000000);
}

TEST_F(ApplyTest, LaterMembersReplaceEarlierOnesAndDirectoriesMerge) {
  TarBuilder layer;
  layer.File("x", "file first")
      .Dir("x", 0700)  // a directory replaces the file
      .File("x/inner", "kept")
      .Dir("x", 0750)  // a directory over a directory merges
      .Symlink("y", "somewhere")
      .File("y", "a file replaces the symlink")
      .Dir("z")
      .File("z/child", "gone with z")
      .Symlink("z", "x");  // a symlink replaces the whole directory
  std::string target = NewTarget();
  Result<ApplyResult> r = Apply(layer, target);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(Lstat(target + "/x").st_mode, S_IFDIR | 0750);
  EXPECT_EQ(*ReadFile(target + "/x/inner"), "kept");
  EXPECT_EQ(*ReadFile(target + "/y"), "a file replaces the symlink");
  EXPECT_EQ(Readlink(target + "/z"), "x");
}

TEST_F(ApplyTest, RootEntryAppliesToTheSnapshotRoot) {
  TarBuilder layer;
  layer.Dir("./", 0710).File("f", "x");
  std::string target = NewTarget();
  ASSERT_TRUE(Apply(layer, target).ok());
  EXPECT_EQ(Lstat(target).st_mode, S_IFDIR | 0710);
}

TEST_F(ApplyTest, ImplicitParentsTakeTheLowerDirectorysAttributes) {
  std::string lower = NewTarget();
  ASSERT_TRUE(Apply(TarBuilder().Mtime(1000000000).Dir("a", 0711).Dir("a/b", 0701), lower).ok());
  std::string target = NewTarget();
  Result<ApplyResult> r =
      Apply(TarBuilder().File("a/b/c/new", "n"), target, {.lower_dirs = {lower}});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(Lstat(target + "/a").st_mode, S_IFDIR | 0711);
  EXPECT_EQ(Lstat(target + "/a").st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(Lstat(target + "/a/b").st_mode, S_IFDIR | 0701);
  EXPECT_EQ(Lstat(target + "/a/b/c").st_mode, S_IFDIR | 0755);  // no lower has it
  // The snapshot root mirrors the lower's root.
  EXPECT_EQ(Lstat(target).st_mode & 07777, Lstat(lower).st_mode & 07777);
}

TEST_F(ApplyTest, HardLinkToALowerLayerFileCopiesItUp) {
  std::string bottom = NewTarget();
  ASSERT_TRUE(Apply(TarBuilder().Dir("data").File("data/f", "from the bottom", 0640), bottom).ok());
  std::string middle = NewTarget();
  ASSERT_TRUE(Apply(TarBuilder().File("other", "m"), middle).ok());
  std::string target = NewTarget();
  Result<ApplyResult> r =
      Apply(TarBuilder().Hardlink("data/g", "data/f"), target, {.lower_dirs = {middle, bottom}});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*ReadFile(target + "/data/f"), "from the bottom");
  EXPECT_EQ(Lstat(target + "/data/f").st_mode, S_IFREG | 0640);
  EXPECT_EQ(Lstat(target + "/data/f").st_ino, Lstat(target + "/data/g").st_ino);
  EXPECT_EQ(Lstat(target + "/data/f").st_nlink, 2u);
  // The lower is untouched.
  EXPECT_EQ(Lstat(bottom + "/data/f").st_nlink, 1u);
}

TEST_F(ApplyTest, HardLinkToNothingFails) {
  std::string target = NewTarget();
  Result<ApplyResult> r = Apply(TarBuilder().Hardlink("g", "no/such/file"), target);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_NE(r.error().str().find("entry \"g\": hard link target \"no/such/file\""),
            std::string::npos)
      << r.error().str();
}

TEST_F(ApplyTest, ErrorsNameTheLayerDigestAndTheEntry) {
  std::string target = NewTarget();
  std::string blob = Blob(TarBuilder().File("ok", "x").Hardlink("bad", "missing"));
  // A content-store layout: .../sha256/<hex>.
  std::string store = tmp_ / "blobs/sha256";
  ASSERT_TRUE(MkdirAll(store).ok());
  std::string hex = Basename(blob);
  ASSERT_EQ(::rename(blob.c_str(), (store + "/" + hex).c_str()), 0);
  Result<ApplyResult> r = ApplyLayer(store + "/" + hex, target, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().str().starts_with("layer sha256:" + hex + ": entry \"bad\": "))
      << r.error().str();
}

TEST_F(ApplyTest, ExpectedDiffIdIsChecked) {
  TarBuilder layer;
  layer.File("f", "x");
  Result<ApplyResult> r =
      Apply(layer, NewTarget(), {.expected_diff_id = Sha256Of("something else")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kDataLoss);
  EXPECT_TRUE(Apply(layer, NewTarget(), {.expected_diff_id = Sha256Of(layer.Tar())}).ok());
}

TEST_F(ApplyTest, CorruptOrTruncatedBlobsFail) {
  std::string tar = TarBuilder().File("f", RandomBytes(200000)).Tar();
  std::string gz = testing::Compress(tar, Compression::kGzip);
  std::string truncated = tmp_ / "truncated.gz";
  ASSERT_TRUE(WriteFile(truncated, gz.substr(0, gz.size() / 2)).ok());
  Result<ApplyResult> r = ApplyLayer(truncated, NewTarget(), {.layer_name = "sha256:abc"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().str().starts_with("layer sha256:abc: ")) << r.error().str();

  std::string garbage = tmp_ / "garbage";
  ASSERT_TRUE(WriteFile(garbage, RandomBytes(5000)).ok());
  EXPECT_FALSE(ApplyLayer(garbage, NewTarget(), {}).ok());

  // gzip inside gzip is no layer format.
  std::string nested = tmp_ / "nested";
  ASSERT_TRUE(WriteFile(nested, testing::Compress(gz, Compression::kGzip)).ok());
  r = ApplyLayer(nested, NewTarget(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().str().find("nested compression"), std::string::npos) << r.error().str();
}

TEST_F(ApplyTest, EmptyBlobIsAnEmptyLayer) {
  std::string empty = tmp_ / "empty";
  ASSERT_TRUE(WriteFile(empty, "").ok());
  Result<ApplyResult> r = ApplyLayer(empty, NewTarget(), {});
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->diff_id, Sha256Of(""));
}

TEST_F(ApplyTest, NonAsciiNamesKeepTheirBytes) {
  std::string target = NewTarget();
  Result<ApplyResult> r =
      Apply(TarBuilder().File("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac", "u"), target);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(*ReadFile(target + "/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"), "u");
}

TEST_F(ApplyTest, SparseMembersKeepTheirSizeAndHoles) {
  const int64_t size = 1 << 20;
  std::string content(size, '\0');
  content.replace(0, 4096, std::string(4096, 'a'));
  content.replace(1 << 19, 4096, std::string(4096, 'b'));
  TarBuilder layer;
  layer.SparseFile("sparse", content, {{0, 4096}, {1 << 19, 4096}});
  std::string tar = layer.Tar();
  ASSERT_LT(tar.size(), static_cast<size_t>(size / 2)) << "the member is not sparse";
  std::string target = NewTarget();
  Result<ApplyResult> r = Apply(layer, target);
  ASSERT_TRUE(r.ok()) << r.error().str();
  struct stat st = Lstat(target + "/sparse");
  EXPECT_EQ(st.st_size, size);  // ends in a hole
  EXPECT_LT(st.st_blocks * 512, size / 2) << "holes were written out";
  EXPECT_EQ(*ReadFile(target + "/sparse"), content);
}

TEST_F(ApplyTest, MissingTargetDirectoryFails) {
  Result<ApplyResult> r = Apply(TarBuilder().File("f", "x"), tmp_ / "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
}

}  // namespace
}  // namespace berth::image
