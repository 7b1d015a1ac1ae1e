#include <gtest/gtest.h>

#include "cgroups/cgroups.h"
#include "cgroups/tests/test_util.h"

namespace berth::cgroups {
namespace {

using testing::Fixture;

// /proc/self/cgroup on this host: memory nested under /process_api/<hash>.
constexpr const char* kHostProc =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/e1a1b143\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

Layout HostLayout() {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.hybrid"), "/sys/fs/cgroup");
  EXPECT_TRUE(l.ok());
  return l.ok() ? *l : Layout{};
}

Layout V2Layout() {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.v2"), "/sys/fs/cgroup");
  EXPECT_TRUE(l.ok());
  return l.ok() ? *l : Layout{};
}

TEST(ParseProcCgroupTest, V1AndV2Lines) {
  auto m = ParseProcCgroup("4:cpu,cpuacct:/a/b\n3:name=systemd:/user.slice\n0::/x\n");
  ASSERT_TRUE(m.ok()) << m.error().str();
  EXPECT_EQ(m->at("cpu"), "/a/b");
  EXPECT_EQ(m->at("cpuacct"), "/a/b");
  EXPECT_EQ(m->at("name=systemd"), "/user.slice");
  EXPECT_EQ(m->at("unified"), "/x");
  EXPECT_FALSE(ParseProcCgroup("nonsense\n").ok());
}

// runc's placement on this host for cgroupsPath "berth-test-1/c1" (verified
// with runc 1.1.5, see runc_compat_test.cc): relative to the own cgroup of
// each hierarchy, so memory nests under /process_api/<hash>.
TEST(ResolveTest, RelativePathLikeRunc) {
  ResolveOptions o;
  o.cgroups_path = "berth-test-1/c1";
  Result<Placement> p = Resolve(HostLayout(), o, kHostProc);
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->mode, Mode::kHybrid);
  EXPECT_EQ(p->paths.size(), 10u);
  EXPECT_EQ(p->paths.at("memory"), "/sys/fs/cgroup/memory/process_api/e1a1b143/berth-test-1/c1");
  EXPECT_EQ(p->relative.at("memory"), "/process_api/e1a1b143/berth-test-1/c1");
  EXPECT_EQ(p->roots.at("memory"), "/sys/fs/cgroup/memory/process_api/e1a1b143");
  EXPECT_EQ(p->paths.at("cpu"), "/sys/fs/cgroup/cpu/berth-test-1/c1");
  EXPECT_EQ(p->paths.at("name=systemd"), "/sys/fs/cgroup/systemd/berth-test-1/c1");
  EXPECT_EQ(p->paths.at("unified"), "/sys/fs/cgroup/unified/berth-test-1/c1");
  EXPECT_EQ(p->relative.at("unified"), "/berth-test-1/c1");
  EXPECT_EQ(p->roots.at("unified"), "/sys/fs/cgroup/unified");
}

TEST(ResolveTest, DefaultIsBerthRootPlusId) {
  ResolveOptions o;
  o.container_id = "abc";
  Result<Placement> p = Resolve(HostLayout(), o, kHostProc);
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->paths.at("pids"), "/sys/fs/cgroup/pids/abc");
  EXPECT_EQ(p->paths.at("memory"), "/sys/fs/cgroup/memory/process_api/e1a1b143/abc");
}

TEST(ResolveTest, AbsolutePathStaysUnderTheBerthRoot) {
  ResolveOptions o;
  o.berth_root = "kubepods-root";  // relative: beneath the own cgroup
  o.cgroups_path = "/kubepods/pod1/c1";
  Result<Placement> p = Resolve(HostLayout(), o, kHostProc);
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->paths.at("memory"),
            "/sys/fs/cgroup/memory/process_api/e1a1b143/kubepods-root/kubepods/pod1/c1");
  EXPECT_EQ(p->roots.at("memory"), "/sys/fs/cgroup/memory/process_api/e1a1b143/kubepods-root");
  EXPECT_EQ(p->paths.at("cpu"), "/sys/fs/cgroup/cpu/kubepods-root/kubepods/pod1/c1");
}

TEST(ResolveTest, AbsoluteBerthRootIsTheSameInEveryHierarchy) {
  ResolveOptions o;
  o.berth_root = "/berth";
  o.container_id = "c1";
  Result<Placement> p = Resolve(HostLayout(), o, kHostProc);
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->paths.at("memory"), "/sys/fs/cgroup/memory/berth/c1");
  EXPECT_EQ(p->roots.at("memory"), "/sys/fs/cgroup/memory/berth");
  EXPECT_EQ(p->relative.at("cpu"), "/berth/c1");
}

TEST(ResolveTest, DotDotCannotEscape) {
  ResolveOptions o;
  o.berth_root = "../../x";
  o.cgroups_path = "../../../etc/c1";
  Result<Placement> p = Resolve(HostLayout(), o, kHostProc);
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->roots.at("memory"), "/sys/fs/cgroup/memory/process_api/e1a1b143/x");
  EXPECT_EQ(p->paths.at("memory"), "/sys/fs/cgroup/memory/process_api/e1a1b143/x/etc/c1");
}

TEST(ResolveTest, Errors) {
  ResolveOptions o;
  EXPECT_FALSE(Resolve(HostLayout(), o, kHostProc).ok());  // no id, no path
  o.container_id = "a/b";
  EXPECT_FALSE(Resolve(HostLayout(), o, kHostProc).ok());
  o.container_id = "ok";
  o.cgroups_path = "/..";  // the berth root itself
  Result<Placement> p = Resolve(HostLayout(), o, kHostProc);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().str().find("berth root itself"), std::string::npos);
  o.cgroups_path = "c";
  EXPECT_FALSE(Resolve(HostLayout(), o, "0::/only-v2\n").ok());  // v1 own cgroups unknown
}

TEST(ResolveTest, PureV2) {
  ResolveOptions o;
  o.cgroups_path = "/kubepods/besteffort/pod1/c1";
  Result<Placement> p = Resolve(V2Layout(), o, "0::/system.slice/berth.service/berth\n");
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->mode, Mode::kV2);
  ASSERT_EQ(p->paths.size(), 1u);
  EXPECT_EQ(p->paths.at("unified"),
            "/sys/fs/cgroup/system.slice/berth.service/berth/kubepods/besteffort/pod1/c1");
  EXPECT_EQ(p->roots.at("unified"), "/sys/fs/cgroup/system.slice/berth.service/berth");
}

// In a container whose mounts show /kubepods/pod1/c1 at /sys/fs/cgroup/memory.
TEST(ResolveTest, TranslatesThroughTheMountRoot) {
  Result<Layout> l = ParseLayout(Fixture("mountinfo.nested"), "/sys/fs/cgroup");
  ASSERT_TRUE(l.ok());
  ResolveOptions o;
  o.container_id = "inner";
  Result<Placement> p = Resolve(*l, o,
                                "3:memory:/kubepods/pod1/c1\n2:cpu,cpuacct:/kubepods/pod1/c1\n"
                                "1:name=systemd:/kubepods/pod1/c1\n");
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_EQ(p->paths.at("memory"), "/sys/fs/cgroup/memory/inner");
  EXPECT_EQ(p->relative.at("memory"), "/kubepods/pod1/c1/inner");
  EXPECT_EQ(p->paths.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/inner");
  // A root outside what the mount shows cannot be reached.
  o.berth_root = "/elsewhere";
  EXPECT_FALSE(Resolve(*l, o, "3:memory:/kubepods/pod1/c1\n").ok());
}

TEST(ResolveTest, ReadsOwnProcFile) {
  Result<Layout> l = Detect();
  ASSERT_TRUE(l.ok()) << l.error().str();
  ResolveOptions o;
  o.container_id = "resolve-test";
  Result<Placement> p = Resolve(*l, o);
  ASSERT_TRUE(p.ok()) << p.error().str();
  EXPECT_FALSE(p->paths.empty());
}

}  // namespace
}  // namespace berth::cgroups
