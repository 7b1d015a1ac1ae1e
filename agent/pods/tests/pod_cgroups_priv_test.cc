// PodCgroups on this host's real hierarchies (v1/hybrid here, v2 in the vm
// guest), as root: the QoS tree and a pod's cgroup with its limits, a
// process left in the pod's cgroup killed on removal, and the cgroup gone.
// Everything lives in a subtree of the test's own cgroup ("berth-podcg-<pid>"),
// removed in TearDown even when a check fails.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/pods/pod_cgroups.h"
#include "agent/pods/tests/pod_json.h"
#include "cgroups/cgroupfs.h"
#include "common/file.h"
#include "common/strings.h"
#include "common/testing/testkit.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;

constexpr int64_t kMi = 1 << 20;

class PodCgroupsPrivTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root (cgroups)");
    Result<cgroups::Layout> layout = cgroups::Detect();
    ASSERT_TRUE(layout.ok()) << layout.error().str();
    options_.layout = *layout;
    options_.berth_root = "berth-podcg-" + std::to_string(::getpid());
    options_.cgroup_root = "/";
    options_.settings.pod_pids_limit = 100;
    cgroups_ = std::make_unique<PodCgroups>(options_);
    ready_ = true;
  }

  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (!ready_) return;
    Result<cgroups::Placement> any = cgroups_->Resolve("/kubepods");
    if (!any.ok()) return;
    for (const auto& [key, root] : any->roots) {
      Status s = cgroups::RemoveCgroup(root);
      EXPECT_TRUE(s.ok()) << s.error().str();
    }
  }

  std::string Dir(const std::string& path, const std::string& key) {
    Result<cgroups::Placement> p = cgroups_->Resolve(path);
    EXPECT_TRUE(p.ok()) << p.error().str();
    if (!p.ok() || p->paths.count(key) == 0) return "";
    return p->paths.at(key);
  }

  std::string Knob(const std::string& dir, const std::string& file) {
    return std::string(Trim(ReadFile(dir + "/" + file).value_or("<missing>")));
  }

  PodCgroupsOptions options_;
  std::unique_ptr<PodCgroups> cgroups_;
  bool ready_ = false;
  pid_t child_ = -1;
};

TEST_F(PodCgroupsPrivTest, PodCgroupHasTheLimitsAndIsRemovedWithWhatIsLeftInIt) {
  bj::object pod = testing::PodWithSpec(R"({"containers": [
      {"name": "a", "resources": {"limits": {"cpu": "200m", "memory": "32Mi"}}},
      {"name": "b", "resources": {"requests": {"cpu": "100m", "memory": "8Mi"},
                                  "limits": {"cpu": "100m", "memory": "16Mi"}}}]})");
  Status s = cgroups_->EnsurePod(pod);
  ASSERT_TRUE(s.ok()) << s.error().str();
  const std::string path = "/kubepods/burstable/poduid-1";
  bool v2 = options_.layout.mode == cgroups::Mode::kV2;
  if (v2) {
    std::string dir = Dir(path, cgroups::kUnified);
    EXPECT_EQ(Knob(dir, "memory.max"), std::to_string(48 * kMi));
    EXPECT_EQ(Knob(dir, "cpu.max"), "30000 100000");
    EXPECT_EQ(Knob(dir, "pids.max"), "100");
    EXPECT_EQ(Knob(Dir("/kubepods/besteffort", cgroups::kUnified), "cpu.weight"), "1");
  } else {
    EXPECT_EQ(Knob(Dir(path, "memory"), "memory.limit_in_bytes"), std::to_string(48 * kMi));
    EXPECT_EQ(Knob(Dir(path, "cpu"), "cpu.cfs_quota_us"), "30000");
    EXPECT_EQ(Knob(Dir(path, "cpu"), "cpu.shares"), "307");
    EXPECT_EQ(Knob(Dir(path, "pids"), "pids.max"), "100");
    EXPECT_EQ(Knob(Dir("/kubepods/besteffort", "cpu"), "cpu.shares"), "2");
    EXPECT_EQ(Knob(Dir("/kubepods/burstable", "cpu"), "cpu.shares"), "307");
  }

  // A process the runtime did not clean up: RemovePod kills it.
  child_ = ::fork();
  ASSERT_GE(child_, 0);
  if (child_ == 0) {
    ::pause();
    ::_exit(0);
  }
  Result<cgroups::Placement> placement = cgroups_->Resolve(path);
  ASSERT_TRUE(placement.ok()) << placement.error().str();
  Result<cgroups::DriverPtr> driver = cgroups::Open(*placement);
  ASSERT_TRUE(driver.ok()) << driver.error().str();
  s = (*driver)->AddProcess(child_);
  ASSERT_TRUE(s.ok()) << s.error().str();

  s = cgroups_->RemovePod("uid-1");
  ASSERT_TRUE(s.ok()) << s.error().str();
  int status = 0;
  ASSERT_EQ(::waitpid(child_, &status, 0), child_);
  child_ = -1;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  for (const auto& [key, dir] : placement->paths)
    EXPECT_FALSE(PathExists(dir)) << dir;
  // The QoS tree stays, burstable back at 2 shares.
  if (!v2) {
    EXPECT_EQ(Knob(Dir("/kubepods/burstable", "cpu"), "cpu.shares"), "2");
  }
}

}  // namespace
}  // namespace berth::agent
