// VolumeManager with the volume kinds that need no mount: emptyDir on
// disk, hostPath and configMap; FailedMount messages; TearDown's safety.

#include "volumes/volume_manager.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "volumes/tests/test_util.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;
using testing::Json;
using testing::LinkTarget;

class VolumeManagerTest : public ::testing::Test {
 protected:
  VolumeManagerTest() {
    EXPECT_TRUE(MkdirAll(host_dir_).ok());
    EXPECT_TRUE(WriteFile(host_dir_ + "/precious", "keep me").ok());
    sources_.config_map = [this](const std::string& ns,
                                 const std::string& name) -> Result<bj::object> {
      auto it = config_maps_.find(ns + "/" + name);
      if (it == config_maps_.end()) return Error(Errc::kNotFound, "configmaps not found");
      return it->second;
    };
    config_maps_["default/web"] = Json(R"({"data": {"index.html": "v1"}})");
  }

  bj::object Pod(std::string_view volumes_json) {
    return Json(R"({"metadata": {"name": "p", "namespace": "default", "uid": "uid-1"},
                    "spec": {"containers": [{"name": "c"}], "volumes": )" +
                std::string(volumes_json) + "}}");
  }

  berth::testing::TempDir tmp_{"berth-vm"};
  std::string root_ = tmp_ / "root";
  std::string host_dir_ = tmp_ / "host";
  Sources sources_;
  std::map<std::string, bj::object> config_maps_;
};

TEST_F(VolumeManagerTest, SetsUpDiskVolumesIdempotently) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(R"([
      {"name": "scratch", "emptyDir": {}},
      {"name": "bare"},
      {"name": "host", "hostPath": {"path": ")" +
                       host_dir_ + R"(", "type": "Directory"}},
      {"name": "html", "configMap": {"name": "web"}}])");
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_TRUE(r.ok()) << r.error().str();
  ASSERT_EQ(r->size(), 4u);
  std::string pod_dir = manager.root_dir() + "/pods/uid-1";
  EXPECT_EQ(r->at("scratch").host_path, pod_dir + "/volumes/kubernetes.io~empty-dir/scratch");
  EXPECT_FALSE(r->at("scratch").read_only);
  EXPECT_EQ(testing::Mode(r->at("scratch").host_path), 0777);
  EXPECT_EQ(r->at("bare").host_path, pod_dir + "/volumes/kubernetes.io~empty-dir/bare");
  EXPECT_EQ(r->at("host").host_path, host_dir_);
  EXPECT_EQ(r->at("html").host_path, pod_dir + "/volumes/kubernetes.io~configmap/html");
  EXPECT_TRUE(r->at("html").read_only);
  EXPECT_EQ(*ReadFile(r->at("html").host_path + "/index.html"), "v1");

  // Files the pod wrote survive a second SetUp; nothing is rewritten.
  ASSERT_TRUE(WriteFile(r->at("scratch").host_path + "/data", "mine").ok());
  std::string data_link = LinkTarget(r->at("html").host_path + "/..data");
  ASSERT_TRUE(manager.SetUp(pod).ok());
  EXPECT_EQ(*ReadFile(r->at("scratch").host_path + "/data"), "mine");
  EXPECT_EQ(LinkTarget(r->at("html").host_path + "/..data"), data_link);
}

TEST_F(VolumeManagerTest, RefreshFollowsTheConfigMap) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(R"([{"name": "html", "configMap": {"name": "web", "optional": true}}])");
  ASSERT_TRUE(manager.SetUp(pod).ok());
  std::string dir = manager.root_dir() + "/pods/uid-1/volumes/kubernetes.io~configmap/html";

  config_maps_["default/web"] = Json(R"({"data": {"index.html": "v2", "extra": "x"}})");
  ASSERT_TRUE(manager.Refresh(pod).ok());
  EXPECT_EQ(*ReadFile(dir + "/index.html"), "v2");
  EXPECT_EQ(*ReadFile(dir + "/extra"), "x");

  // Deleted, and optional: the volume empties.
  config_maps_.erase("default/web");
  ASSERT_TRUE(manager.Refresh(pod).ok());
  EXPECT_FALSE(PathExists(dir + "/index.html"));
  EXPECT_TRUE(PathExists(dir + "/..data"));
}

TEST_F(VolumeManagerTest, RefreshErrorKeepsContentsAndSkipsVolumesNotSetUp) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(R"([{"name": "html", "configMap": {"name": "web"}}])");
  EXPECT_TRUE(manager.Refresh(pod).ok());  // nothing set up yet: nothing to do
  EXPECT_FALSE(PathExists(manager.root_dir() + "/pods/uid-1"));
  ASSERT_TRUE(manager.SetUp(pod).ok());
  config_maps_.erase("default/web");
  Status s = manager.Refresh(pod);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().str(),
            "MountVolume.SetUp failed for volume \"html\" : configmap \"web\" not found");
  EXPECT_EQ(
      *ReadFile(manager.root_dir() + "/pods/uid-1/volumes/kubernetes.io~configmap/html/index.html"),
      "v1");
}

TEST_F(VolumeManagerTest, FailuresNameTheVolumeAndLeaveTheRestReady) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(R"([
      {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}},
      {"name": "cfg", "configMap": {"name": "missing"}},
      {"name": "bad-host", "hostPath": {"path": ")" +
                       host_dir_ + R"(/precious", "type": "Directory"}},
      {"name": "fine", "emptyDir": {}}])");
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnimplemented);
  EXPECT_EQ(r.error().str(),
            "MountVolume.SetUp failed for volume \"data\" : persistentVolumeClaim volumes are not "
            "supported by berth yet; "
            "MountVolume.SetUp failed for volume \"cfg\" : configmap \"missing\" not found; "
            "MountVolume.SetUp failed for volume \"bad-host\" : hostPath type check failed: " +
                host_dir_ + "/precious is not a directory");
  std::string volumes = manager.root_dir() + "/pods/uid-1/volumes";
  EXPECT_TRUE(PathExists(volumes + "/kubernetes.io~empty-dir/fine"));
  // The failed configMap left no directory behind.
  EXPECT_FALSE(PathExists(volumes + "/kubernetes.io~configmap/cfg"));
}

TEST_F(VolumeManagerTest, TearDownRemovesThePodButNothingSymlinksPointTo) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(R"([{"name": "scratch", "emptyDir": {}},
      {"name": "host", "hostPath": {"path": ")" +
                       host_dir_ + R"("}}])");
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_TRUE(r.ok()) << r.error().str();
  // A pod linking the host path (or the agent's files) into its emptyDir.
  std::string scratch = r->at("scratch").host_path;
  ASSERT_EQ(::symlink(host_dir_.c_str(), (scratch + "/escape").c_str()), 0);
  ASSERT_EQ(::symlink((host_dir_ + "/precious").c_str(), (scratch + "/file").c_str()), 0);

  EXPECT_EQ(manager.PodsOnDisk(), std::vector<std::string>{"uid-1"});
  ASSERT_TRUE(manager.TearDown("uid-1").ok());
  EXPECT_FALSE(PathExists(manager.root_dir() + "/pods/uid-1"));
  EXPECT_EQ(*ReadFile(host_dir_ + "/precious"), "keep me");
  EXPECT_TRUE(manager.PodsOnDisk().empty());
  EXPECT_TRUE(manager.TearDown("uid-1").ok());  // already gone
  EXPECT_FALSE(manager.TearDown("../x").ok());
}

TEST_F(VolumeManagerTest, OrphansAreFoundByAFreshManager) {
  {
    VolumeManager manager(root_, sources_);
    ASSERT_TRUE(manager.SetUp(Pod(R"([{"name": "s", "emptyDir": {}}])")).ok());
  }
  ASSERT_TRUE(MkdirAll(root_ + "/pods/uid-2").ok());
  ASSERT_TRUE(WriteFile(root_ + "/pods/not-a-dir", "").ok());
  VolumeManager restarted(root_, sources_);
  std::vector<std::string> uids = restarted.PodsOnDisk();
  std::sort(uids.begin(), uids.end());
  EXPECT_EQ(uids, (std::vector<std::string>{"uid-1", "uid-2"}));
  for (const std::string& uid : uids)
    EXPECT_TRUE(restarted.TearDown(uid).ok());
  EXPECT_TRUE(restarted.PodsOnDisk().empty());
}

}  // namespace
}  // namespace berth::volumes
