#include <gtest/gtest.h>

#include "cgroups/cgroups.h"
#include "cgroups/tests/test_util.h"

namespace berth::cgroups {
namespace {

using testing::Fixture;

TEST(DetectTest, PureV2) {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.v2"), "/sys/fs/cgroup");
  ASSERT_TRUE(l.ok()) << l.error().str();
  EXPECT_EQ(l->mode, Mode::kV2);
  EXPECT_EQ(l->unified_mount, "/sys/fs/cgroup");
  EXPECT_EQ(l->unified_mount_root, "/");
  EXPECT_TRUE(l->v1_mounts.empty());
}

// This host: every v1 controller in its own hierarchy, name=systemd, and an
// empty cgroup2 at /sys/fs/cgroup/unified.
TEST(DetectTest, HybridLikeThisHost) {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.hybrid"), "/sys/fs/cgroup");
  ASSERT_TRUE(l.ok()) << l.error().str();
  EXPECT_EQ(l->mode, Mode::kHybrid);
  EXPECT_EQ(l->unified_mount, "/sys/fs/cgroup/unified");
  std::map<std::string, std::string> want = {
      {"blkio", "/sys/fs/cgroup/blkio"},     {"cpu", "/sys/fs/cgroup/cpu"},
      {"cpuacct", "/sys/fs/cgroup/cpuacct"}, {"cpuset", "/sys/fs/cgroup/cpuset"},
      {"devices", "/sys/fs/cgroup/devices"}, {"freezer", "/sys/fs/cgroup/freezer"},
      {"memory", "/sys/fs/cgroup/memory"},   {"name=systemd", "/sys/fs/cgroup/systemd"},
      {"pids", "/sys/fs/cgroup/pids"}};
  EXPECT_EQ(l->v1_mounts, want);
  for (const auto& [key, root] : l->v1_mount_roots)
    EXPECT_EQ(root, "/") << key;
}

// CentOS 7 style: comounted cpu,cpuacct and net_cls,net_prio; mount flags
// (seclabel, xattr, release_agent=, clone_children) are not controllers.
TEST(DetectTest, PureV1Comounted) {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.v1"), "/sys/fs/cgroup");
  ASSERT_TRUE(l.ok()) << l.error().str();
  EXPECT_EQ(l->mode, Mode::kV1);
  EXPECT_EQ(l->unified_mount, "");
  EXPECT_EQ(l->v1_mounts.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l->v1_mounts.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l->v1_mounts.at("net_cls"), "/sys/fs/cgroup/net_cls,net_prio");
  EXPECT_EQ(l->v1_mounts.at("net_prio"), "/sys/fs/cgroup/net_cls,net_prio");
  EXPECT_EQ(l->v1_mounts.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(l->v1_mounts.at("cpuset"), "/sys/fs/cgroup/cpuset");
  EXPECT_EQ(l->v1_mounts.count("seclabel"), 0u);
  EXPECT_EQ(l->v1_mounts.count("clone_children"), 0u);
  EXPECT_EQ(l->v1_mounts.count("xattr"), 0u);
  EXPECT_EQ(l->v1_mounts.size(), 13u);
}

// Inside a container: the mounts show a subtree of each hierarchy.
TEST(DetectTest, MountRootsOfBindMounts) {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.nested"), "/sys/fs/cgroup");
  ASSERT_TRUE(l.ok()) << l.error().str();
  EXPECT_EQ(l->mode, Mode::kV1);
  EXPECT_EQ(l->v1_mount_roots.at("memory"), "/kubepods/pod1/c1");
  EXPECT_EQ(l->v1_mount_roots.at("cpu"), "/kubepods/pod1/c1");
}

TEST(DetectTest, OtherMountRoot) {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.hybrid"), "/sys/fs/cgroup/unified");
  ASSERT_TRUE(l.ok()) << l.error().str();
  EXPECT_EQ(l->mode, Mode::kV2);
  EXPECT_EQ(l->unified_mount, "/sys/fs/cgroup/unified");
  EXPECT_TRUE(l->v1_mounts.empty());
}

TEST(DetectTest, NothingMounted) {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.v2"), "/tmp/nowhere");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), Errc::kNotFound);
  EXPECT_NE(l.error().str().find("/tmp/nowhere"), std::string::npos);
}

TEST(DetectTest, OctalEscapesAndMalformedLines) {
  std::string info = "40 31 0:38 / /tmp/cg\\040root rw,relatime - cgroup2 cgroup2 rw\n";
  Result<Layout> l = ParseLayout(info, "/tmp/cg root");
  ASSERT_TRUE(l.ok()) << l.error().str();
  EXPECT_EQ(l->unified_mount, "/tmp/cg root");
  EXPECT_FALSE(ParseLayout("garbage\n", "/sys/fs/cgroup").ok());
}

TEST(DetectTest, ModeNames) {
  for (Mode m : {Mode::kV1, Mode::kHybrid, Mode::kV2}) {
    Result<Mode> back = ModeFromName(ModeName(m));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, m);
  }
  EXPECT_FALSE(ModeFromName("v3").ok());
}

// The real host: whatever it is, Detect must succeed on /sys/fs/cgroup.
TEST(DetectTest, ThisMachine) {
  Result<Layout> l = Detect();
  ASSERT_TRUE(l.ok()) << l.error().str();
  EXPECT_TRUE(l->mode == Mode::kV2 ? !l->unified_mount.empty() : !l->v1_mounts.empty());
}

}  // namespace
}  // namespace berth::cgroups
