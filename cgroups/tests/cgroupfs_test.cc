#include "cgroups/cgroupfs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cgroups/tests/test_util.h"

namespace berth::cgroups {
namespace {

using testing::WriteTree;

TEST(CgroupfsTest, ParseUintOrMax) {
  EXPECT_EQ(*ParseUintOrMax("max\n", "x"), kMax);
  EXPECT_EQ(*ParseUintOrMax("-1", "x"), kMax);
  EXPECT_EQ(*ParseUintOrMax(" 42\n", "x"), 42u);
  EXPECT_FALSE(ParseUintOrMax("4k", "x").ok());
}

TEST(CgroupfsTest, ParseKeyValues) {
  auto kv = ParseKeyValues("usage_usec 10\nuser_usec 4\n\nsystem_usec 6\n", "cpu.stat");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->at("usage_usec"), 10u);
  EXPECT_EQ(kv->size(), 3u);
  auto bad = ParseKeyValues("a 1 2\n", "f");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().str().find("malformed line \"a 1 2\""), std::string::npos);
}

TEST(CgroupfsTest, ContainmentAndLevels) {
  EXPECT_TRUE(IsWithin("/a/b", "/a"));
  EXPECT_TRUE(IsWithin("/a", "/a"));
  EXPECT_FALSE(IsWithin("/ab", "/a"));
  EXPECT_TRUE(IsWithin("/x", "/"));
  std::vector<std::string> want = {"/r", "/r/a", "/r/a/b"};
  EXPECT_EQ(DirsFromRoot("/r", "/r/a/b"), want);
  EXPECT_TRUE(CheckConfined("memory", "/r/a", "/r").ok());
  EXPECT_FALSE(CheckConfined("memory", "/r", "/r").ok());
  EXPECT_FALSE(CheckConfined("memory", "/r/../x", "/r").ok());
  EXPECT_FALSE(CheckConfined("memory", "/other", "/r").ok());
  EXPECT_FALSE(CheckConfined("memory", "r/a", "r").ok());
}

TEST(CgroupfsTest, WriteKnobNamesFileAndValue) {
  berth::testing::TempDir tmp;
  Status s = WriteKnob(tmp.path(), "missing.knob", "7");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().str(), "open `" + tmp.path() + "/missing.knob`: No such file or directory");
  // A write(2) the kernel refuses: /dev/full says ENOSPC.
  Status full = WriteKnob("/dev", "full", "33554432");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().str(), "write `/dev/full` (value \"33554432\"): No space left on device");
  EXPECT_EQ(full.error().sys_errno(), ENOSPC);
}

TEST(CgroupfsTest, MakeDirsNeverAboveTheRoot) {
  berth::testing::TempDir tmp;
  // The root's parent is missing: nothing may be created above the root.
  auto made = MakeCgroupDirs(tmp / "missing/root", tmp / "missing/root/c");
  ASSERT_FALSE(made.ok());
  EXPECT_FALSE(PathExists(tmp / "missing"));
  auto ok = MakeCgroupDirs(tmp / "root", tmp / "root/a/b");
  ASSERT_TRUE(ok.ok()) << ok.error().str();
  std::vector<std::string> want = {tmp / "root", tmp / "root/a", tmp / "root/a/b"};
  EXPECT_EQ(*ok, want);
  auto again = MakeCgroupDirs(tmp / "root", tmp / "root/a/b");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  RemoveCreated(*ok);
  EXPECT_FALSE(PathExists(tmp / "root"));
}

TEST(CgroupfsTest, ProcsRecursiveAndRemove) {
  berth::testing::TempDir tmp;
  WriteTree(tmp.path(), {{"c/cgroup.procs", "10\n12\n"},
                         {"c/sub/cgroup.procs", "11\n10\n"},
                         {"c/sub/deeper/cgroup.procs", ""}});
  auto pids = ReadProcsRecursive(tmp / "c");
  ASSERT_TRUE(pids.ok()) << pids.error().str();
  EXPECT_EQ(*pids, (std::vector<pid_t>{10, 11, 12}));
  // RemoveCgroup removes directories only (cgroupfs has no removable files),
  // so on a plain file system it fails on the non-empty directory.
  EXPECT_FALSE(RemoveCgroup(tmp / "c").ok());
  EXPECT_TRUE(RemoveCgroup(tmp / "nonexistent").ok());
  ASSERT_EQ(::mkdir((tmp / "empty").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((tmp / "empty/child").c_str(), 0755), 0);
  EXPECT_TRUE(RemoveCgroup(tmp / "empty").ok());
  EXPECT_FALSE(PathExists(tmp / "empty"));
}

TEST(CgroupfsTest, RdmaLine) {
  EXPECT_EQ(RdmaLimitLine("mlx5_1", {{"hcaHandles", 3}, {"hcaObjects", 9}}),
            "mlx5_1 hca_handle=3 hca_object=9");
  EXPECT_EQ(RdmaLimitLine("mlx5_1", {{"hcaObjects", 9}}), "mlx5_1 hca_object=9");
  EXPECT_EQ(RdmaLimitLine("mlx5_1", {}), "");
}

}  // namespace
}  // namespace berth::cgroups
