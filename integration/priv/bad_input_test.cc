// Bad input acceptance, on berth-runc: a create that fails on its input
// exits non-zero with an error naming the field or path, and leaves nothing
// behind: no state directory under --root, no cgroup, no mount, no process.
// runc is run on the same bundles only to confirm it refuses them too.

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/strings.h"
#include "integration/priv/harness/suite.h"

namespace berth::priv {
namespace {

namespace bj = boost::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(testing::IsRoot(), "root");
    BERTH_REQUIRE(FixturesBuilt(), "the busybox fixture rootfs (target berth_fixture_rootfs)");
    BERTH_REQUIRE(BerthRunc().available(), BerthRunc().path);
    InstallReaper();
  }

  bj::object Config() const { return BaseConfig({"sleep", "100"}, tree_.CgroupsPath("ctr")); }

  std::set<std::string> Outside() const { return tree_.DirsOutside(); }

  // The host's mounts, except the transient ones runc makes in the state
  // roots of other tests running meanwhile (its copy of its own binary).
  std::set<std::string> Mounts() const {
    std::set<std::string> out;
    for (const std::string& line :
         SplitNonEmpty(ReadFile("/proc/self/mountinfo").value_or(""), '\n')) {
      // Mounts of tests running next to this one (ctest -j2): other runtime
      // roots, and network namespaces pinned by `ip netns add` (CNI tests).
      // A refused create makes neither.
      bool other = (line.find("/berth-priv-root-") != std::string::npos &&
                    line.find(berth_.root()) == std::string::npos) ||
                   line.find(" /run/netns") != std::string::npos;
      if (!other) out.insert(line);
    }
    return out;
  }

  // Creates `id` from the bundle as it is; expects failure naming `needle`
  // and no trace of the attempt.
  void ExpectRefused(const std::string& id, const std::string& needle) {
    std::set<std::string> before = Outside();
    std::set<std::string> mounts_before = Mounts();
    RunResult r = berth_.Cmd({"create", "--bundle", bundle_.path(), id});
    EXPECT_NE(r.exit_code(), 0) << r.Describe();
    EXPECT_THAT(ErrorMessage(r.err), HasSubstr(needle)) << r.err;
    EXPECT_FALSE(PathExists(berth_.root() + "/" + id)) << "state directory left under --root";
    for (const std::string& root : tree_.Roots()) {
      EXPECT_FALSE(PathExists(root + "/" + id)) << "cgroup left: " << root << "/" << id;
    }
    std::set<std::string> after = Outside();
    for (const std::string& d : after)
      EXPECT_TRUE(before.count(d)) << "cgroup created outside the tree: " << d;
    for (const std::string& m : Mounts())
      EXPECT_TRUE(mounts_before.count(m)) << "new mount: " << m;
    EXPECT_THAT(GrepLines(ReadFile("/proc/self/mountinfo").value_or(""), bundle_.path()),
                IsEmpty());
    EXPECT_THAT(PidsMentioning(tree_.name()), IsEmpty())
        << "a process is in the container's cgroup";
    EXPECT_THAT(PidsMentioning(bundle_.rootfs()), IsEmpty()) << "a process has the rootfs as root";
    RunResult runc = runc_.Cmd({"create", "--bundle", bundle_.path(), id});
    EXPECT_NE(runc.exit_code(), 0) << "runc accepted it: " << runc.Describe();
    ::testing::Test::RecordProperty("runc_message", ErrorMessage(runc.err));
    ::testing::Test::RecordProperty("berth_message", ErrorMessage(r.err));
    if (runc.exit_code() == 0) (void)runc_.Cmd({"delete", "--force", id});
  }

  CgroupTree tree_;
  Session berth_{BerthRunc()};
  Session runc_{Runc()};
  Bundle bundle_;
};

TEST_F(BadInput, MalformedConfigJson) {
  ASSERT_TRUE(
      WriteFile(bundle_.path() + "/config.json", "{\"ociVersion\": \"1.0.2\", \"process\": {")
          .ok());
  ExpectRefused("ctr", bundle_.path() + "/config.json");
}

TEST_F(BadInput, UnknownNamespaceType) {
  bj::object c = Config();
  c["linux"].as_object()["namespaces"].as_array().push_back(bj::object{{"type", "bogus"}});
  bundle_.WriteConfig(c);
  ExpectRefused("ctr", "linux.namespaces[5].type");
  ExpectRefused("ctr", "bogus");
}

TEST_F(BadInput, MissingProcessArgs) {
  bj::object c = Config();
  c["process"].as_object().erase("args");
  bundle_.WriteConfig(c);
  ExpectRefused("ctr", "process.args");
}

TEST_F(BadInput, RelativeCwd) {
  bj::object c = Config();
  c["process"].as_object()["cwd"] = "tmp";
  bundle_.WriteConfig(c);
  ExpectRefused("ctr", "process.cwd");
}

TEST_F(BadInput, UnknownRlimit) {
  bj::object c = Config();
  c["process"].as_object()["rlimits"].as_array().push_back(
      bj::object{{"type", "RLIMIT_BOGUS"}, {"soft", 1}, {"hard", 1}});
  bundle_.WriteConfig(c);
  ExpectRefused("ctr", "RLIMIT_BOGUS");
}

TEST_F(BadInput, MissingRootfs) {
  bj::object c = Config();
  c["root"].as_object()["path"] = "no-such-rootfs";
  bundle_.WriteConfig(c);
  ExpectRefused("ctr", bundle_.path() + "/no-such-rootfs");
}

// The second create fails; the first container is untouched.
TEST_F(BadInput, DuplicateContainerId) {
  bundle_.WriteConfig(Config());
  Container first(berth_, "ctr", bundle_.path());
  RunResult created = first.Create();
  ASSERT_EQ(created.exit_code(), 0) << created.Describe();
  std::string cgroup = tree_.Dir("/sys/fs/cgroup/pids", "ctr");
  std::set<std::string> before = Outside();
  RunResult dup = berth_.Cmd({"create", "--bundle", bundle_.path(), "ctr"});
  EXPECT_EQ(dup.exit_code(), 1);
  EXPECT_EQ(ErrorMessage(dup.err),
            "<runtime> create failed: container with given ID already exists");
  EXPECT_EQ(first.Status(), "created");
  EXPECT_TRUE(ProcessExists(first.pid()));
  EXPECT_EQ(ReadFile(cgroup + "/cgroup.procs").value_or(""), std::to_string(first.pid()) + "\n");
  EXPECT_EQ(Outside(), before);
  EXPECT_EQ(PidsMentioning(tree_.name()), std::vector<pid_t>{first.pid()});
  EXPECT_EQ(first.Delete(true).exit_code(), 0);
}

}  // namespace
}  // namespace berth::priv
