// mountinfo parsing, fsGroup/fsUser reading and ownership walks that need
// no root.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "volumes/empty_dir.h"
#include "volumes/mounts.h"
#include "volumes/ownership.h"
#include "volumes/tests/test_util.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;
using testing::Json;

TEST(MountInfoTest, ParsesAndUnescapes) {
  std::vector<MountEntry> entries = ParseMountInfo(
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "97 22 0:50 / /var/lib/berth/pods/u/volumes/kubernetes.io~secret/a\\040b rw,relatime - "
      "tmpfs tmpfs rw,size=1024k\n"
      "98 22 0:51 / /x rw - tmpfs\n");  // malformed: too few fields after "-"
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].mount_point, "/");
  EXPECT_EQ(entries[0].fs_type, "ext4");
  EXPECT_EQ(entries[1].mount_point, "/var/lib/berth/pods/u/volumes/kubernetes.io~secret/a b");
  EXPECT_EQ(entries[1].fs_type, "tmpfs");
}

TEST(MountInfoTest, TheRootIsAMountPoint) {
  EXPECT_TRUE(*IsMountPoint("/"));
  berth::testing::TempDir tmp("berth-mounts");
  EXPECT_FALSE(*IsMountPoint(tmp.path()));
}

TEST(OwnershipTest, FsGroupAndFsUser) {
  EXPECT_EQ(*PodFsGroup(Json(R"({"spec": {}})")), std::nullopt);
  EXPECT_EQ(*PodFsGroup(Json(R"({"spec": {"securityContext": {"fsGroup": 2000}}})")),
            std::optional<gid_t>(2000));
  EXPECT_FALSE(PodFsGroup(Json(R"({"spec": {"securityContext": {"fsGroup": -1}}})")).ok());

  EXPECT_EQ(PodFsUser(Json(R"({"spec": {"securityContext": {"runAsUser": 1000},
      "initContainers": [{"name": "i"}], "containers": [{"name": "a"}]}})")),
            std::optional<uid_t>(1000));
  EXPECT_EQ(PodFsUser(Json(R"({"spec": {"securityContext": {"runAsUser": 1000},
      "containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsUser": 1001}}]}})")),
            std::nullopt);
  EXPECT_EQ(PodFsUser(Json(R"({"spec": {"containers": [
      {"name": "a", "securityContext": {"runAsUser": 7}}, {"name": "b"}]}})")),
            std::nullopt);
  EXPECT_EQ(PodFsUser(Json(R"({"spec": {"containers": [
      {"name": "a", "securityContext": {"runAsUser": 7}},
      {"name": "b", "securityContext": {"runAsUser": 7}}]}})")),
            std::optional<uid_t>(7));
}

TEST(OwnershipTest, WalkSetsGroupBitsAndSetgidWithoutFollowingSymlinks) {
  berth::testing::TempDir tmp("berth-owner");
  std::string vol = tmp / "vol";
  ASSERT_TRUE(MkdirAll(vol + "/sub").ok());
  ASSERT_EQ(::chmod((vol + "/sub").c_str(), 0700), 0);
  ASSERT_TRUE(WriteFile(vol + "/sub/f", "x", 0600).ok());
  ASSERT_TRUE(WriteFile(tmp / "outside", "x", 0600).ok());
  ASSERT_EQ(::symlink((tmp / "outside").c_str(), (vol + "/link").c_str()), 0);
  gid_t group = ::getegid();

  ASSERT_TRUE(SetVolumeOwnership(vol, group, false).ok());
  EXPECT_EQ(testing::Mode(vol + "/sub"), 02770);
  EXPECT_EQ(testing::Mode(vol + "/sub/f"), 0660);
  EXPECT_EQ(testing::Mode(tmp / "outside"), 0600);  // not through the symlink

  ASSERT_TRUE(WriteFile(vol + "/ro", "x", 0400).ok());
  ASSERT_TRUE(SetVolumeOwnership(vol, group, true).ok());
  EXPECT_EQ(testing::Mode(vol + "/ro"), 0440);
  EXPECT_EQ(testing::Stat(vol + "/ro").st_gid, group);
}

TEST(MemoryVolumeSizeTest, SmallestOfNodePodAndSizeLimit) {
  bj::object limited = Json(R"({"spec": {"containers": [
      {"name": "a", "resources": {"limits": {"memory": "64Mi"}}},
      {"name": "b", "resources": {"limits": {"memory": "64Mi"}}}]}})");
  bj::object unlimited = Json(R"({"spec": {"containers": [
      {"name": "a", "resources": {"limits": {"memory": "64Mi"}}}, {"name": "b"}]}})");
  const int64_t gi = 1LL << 30;
  const int64_t mi = 1LL << 20;
  EXPECT_EQ(*MemoryVolumeSize(limited, 0, gi), 128 * mi);
  EXPECT_EQ(*MemoryVolumeSize(limited, 16 * mi, gi), 16 * mi);
  EXPECT_EQ(*MemoryVolumeSize(limited, 2 * gi, gi), 128 * mi);
  EXPECT_EQ(*MemoryVolumeSize(unlimited, 0, gi), gi);
  EXPECT_EQ(*MemoryVolumeSize(unlimited, 0, 0), 0);
  EXPECT_EQ(*MemoryVolumeSize(unlimited, 32 * mi, 0), 32 * mi);
  bj::object with_init = Json(R"({"spec": {
      "initContainers": [{"name": "i", "resources": {"limits": {"memory": "512Mi"}}}],
      "containers": [{"name": "a", "resources": {"limits": {"memory": "64Mi"}}}],
      "overhead": {"memory": "10Mi"}}})");
  EXPECT_EQ(*MemoryVolumeSize(with_init, 0, gi), 522 * mi);
}

}  // namespace
}  // namespace berth::volumes
