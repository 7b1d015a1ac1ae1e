// Overlay mounts of snapshot chains: many long lowerdirs through the new
// mount API, the mount(2) fallback with relative paths, read-write uppers,
// single-lower binds, and unmounting on destruction.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/file.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "runtime/image/unpack/overlay.h"

namespace berth::image {
namespace {

bool IsMountPoint(const std::string& path) {
  Result<std::string> info = ReadFile("/proc/self/mountinfo");
  if (!info.ok()) return false;
  for (const std::string& line : Split(*info, '\n')) {
    std::vector<std::string> fields = Split(line, ' ');
    if (fields.size() > 4 && fields[4] == path) return true;
  }
  return false;
}

class OverlayPrivTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "needs root");
    BERTH_REQUIRE(PathExists("/sys/module/overlay") || ::access("/proc/filesystems", R_OK) == 0,
                  "overlayfs");
    ASSERT_TRUE(MkdirAll(mnt_).ok());
  }

  // `n` lower directories under `base`, each holding "f<i>" and a shared
  // "common" that says which layer it came from.
  std::vector<std::string> MakeLowers(const std::string& base, int n, const std::string& stem) {
    std::vector<std::string> lowers;
    for (int i = 0; i < n; ++i) {
      std::string dir = base + "/" + stem + std::to_string(i) + "/fs";
      EXPECT_TRUE(MkdirAll(dir).ok());
      EXPECT_TRUE(WriteFile(dir + "/f" + std::to_string(i), std::to_string(i)).ok());
      EXPECT_TRUE(WriteFile(dir + "/common", std::to_string(i)).ok());
      lowers.push_back(dir);
    }
    return lowers;
  }

  void ExpectMerged(int n) {
    for (int i = 0; i < n; ++i) {
      Result<std::string> f = ReadFile(mnt_ + "/f" + std::to_string(i));
      ASSERT_TRUE(f.ok()) << "layer " << i << ": " << f.error().str();
      EXPECT_EQ(*f, std::to_string(i));
    }
    EXPECT_EQ(*ReadFile(mnt_ + "/common"), "0") << "the first lowerdir must be the top-most";
  }

  // Declared first: destroyed last, after any mount in the test body.
  berth::testing::TempDir tmp_{"berth-ovl"};
  std::string mnt_ = tmp_ / "mnt";
};

TEST_F(OverlayPrivTest, TwoHundredLongLowerdirsMountWithTheNewApi) {
  const std::string stem = std::string(150, 'l') + "-";
  std::vector<std::string> lowers = MakeLowers(tmp_ / "layers", 200, stem);
  size_t total = 0;
  for (const std::string& l : lowers)
    total += l.size() + 1;
  ASSERT_GT(total, 8 * 4096u);  // far beyond one mount(2) option page
  Result<OverlayMount> m = MountOverlay(lowers, "", "", mnt_, true, MountApi::kNew);
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_TRUE(IsMountPoint(mnt_));
  ExpectMerged(200);
  // No upper: read-only.
  int fd = ::open((mnt_ + "/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  EXPECT_LT(fd, 0);
  EXPECT_EQ(errno, EROFS);
  if (fd >= 0) ::close(fd);
  ASSERT_TRUE(m->Unmount().ok());
  EXPECT_FALSE(IsMountPoint(mnt_));
}

TEST_F(OverlayPrivTest, AutoPicksAWorkingApiForManyLayers) {
  std::vector<std::string> lowers = MakeLowers(tmp_ / "layers", 120, std::string(100, 'a'));
  {
    Result<OverlayMount> m = MountOverlay(lowers, "", "", mnt_, true);
    ASSERT_TRUE(m.ok()) << m.error().str();
    ExpectMerged(120);
  }
  EXPECT_FALSE(IsMountPoint(mnt_)) << "the mount must go when its owner does";
}

TEST_F(OverlayPrivTest, LegacyMountUsesRelativePathsWhenAbsoluteOnesDoNotFit) {
  // A long common root and short layer names: too long as absolute paths,
  // fits relative to the root.
  std::string root = tmp_ / (std::string(200, 'r') + "/snapshots");
  std::vector<std::string> lowers = MakeLowers(root, 40, "");
  size_t total = 0;
  for (const std::string& l : lowers)
    total += l.size() + 1;
  ASSERT_GT(total, 4096u);
  char cwd_before[4096];
  ASSERT_NE(::getcwd(cwd_before, sizeof cwd_before), nullptr);
  Result<OverlayMount> m = MountOverlay(lowers, "", "", mnt_, true, MountApi::kLegacy);
  ASSERT_TRUE(m.ok()) << m.error().str();
  ExpectMerged(40);
  char cwd_after[4096];
  ASSERT_NE(::getcwd(cwd_after, sizeof cwd_after), nullptr);
  EXPECT_STREQ(cwd_before, cwd_after) << "the caller's cwd must not change";
}

TEST_F(OverlayPrivTest, LegacyMountWithShortPaths) {
  std::vector<std::string> lowers = MakeLowers(tmp_ / "l", 3, "");
  Result<OverlayMount> m = MountOverlay(lowers, "", "", mnt_, true, MountApi::kLegacy);
  ASSERT_TRUE(m.ok()) << m.error().str();
  ExpectMerged(3);
}

TEST_F(OverlayPrivTest, ReadWriteUpperTakesChangesAndWhiteouts) {
  std::vector<std::string> lowers = MakeLowers(tmp_ / "l", 2, "");
  std::string upper = tmp_ / "c/upper";
  std::string work = tmp_ / "c/work";
  ASSERT_TRUE(MkdirAll(upper).ok());
  ASSERT_TRUE(MkdirAll(work).ok());
  for (MountApi api : {MountApi::kNew, MountApi::kLegacy}) {
    Result<OverlayMount> m = MountOverlay(lowers, upper, work, mnt_, false, api);
    ASSERT_TRUE(m.ok()) << m.error().str();
    ASSERT_TRUE(WriteFile(mnt_ + "/written", "w").ok());
    ASSERT_EQ(::unlink((mnt_ + "/f1").c_str()), 0);
    ASSERT_TRUE(m->Unmount().ok());
    EXPECT_EQ(*ReadFile(upper + "/written"), "w");
    struct stat st {};
    ASSERT_EQ(::lstat((upper + "/f1").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    EXPECT_TRUE(PathExists(lowers[1] + "/f1")) << "lowers are never written";
    ASSERT_TRUE(RemoveAll(upper + "/written").ok());
    ASSERT_TRUE(RemoveAll(upper + "/f1").ok());
  }
}

TEST_F(OverlayPrivTest, ReadOnlyMountWithUpper) {
  std::vector<std::string> lowers = MakeLowers(tmp_ / "l", 2, "");
  ASSERT_TRUE(MkdirAll(tmp_ / "c/upper").ok());
  ASSERT_TRUE(MkdirAll(tmp_ / "c/work").ok());
  Result<OverlayMount> m = MountOverlay(lowers, tmp_ / "c/upper", tmp_ / "c/work", mnt_, true);
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_FALSE(WriteFile(mnt_ + "/x", "x").ok());
}

TEST_F(OverlayPrivTest, OneLowerWithoutUpperIsAReadOnlyBind) {
  std::vector<std::string> lowers = MakeLowers(tmp_ / "l", 1, "");
  Result<OverlayMount> m = MountOverlay(lowers, "", "", mnt_, false);
  ASSERT_TRUE(m.ok()) << m.error().str();
  ExpectMerged(1);
  EXPECT_FALSE(WriteFile(mnt_ + "/x", "x").ok()) << "a bare lower must never be writable";
  std::string released;
  {
    OverlayMount moved = std::move(*m);
    released = moved.release();
  }
  EXPECT_TRUE(IsMountPoint(released)) << "a released mount stays";
  OverlayMount again(released);
  ASSERT_TRUE(again.Unmount().ok());
  EXPECT_FALSE(IsMountPoint(mnt_));
}

TEST_F(OverlayPrivTest, BadArgumentsAndKernelErrorsAreReported) {
  EXPECT_EQ(MountOverlay({}, "", "", mnt_, true).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(MountOverlay({tmp_ / "a"}, tmp_ / "u", "", mnt_, true).error().code(),
            Errc::kInvalidArgument);
  Result<OverlayMount> m = MountOverlay({tmp_ / "missing1", tmp_ / "missing2"}, "", "", mnt_, true);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().str().find("missing1"), std::string::npos) << m.error().str();
  EXPECT_FALSE(IsMountPoint(mnt_));
}

}  // namespace
}  // namespace berth::image
