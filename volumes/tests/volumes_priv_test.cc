// Volumes that mount: secret/downwardAPI/projected and emptyDir Memory on
// tmpfs, TearDown's unmounting, fsGroup ownership. Runs as root in a
// private mount namespace of its own, so that no mount outlives the test
// process or reaches the host, even when a test fails.

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>

#include "common/base64.h"
#include "common/file.h"
#include "common/testing/testkit.h"
#include "volumes/mounts.h"
#include "volumes/tests/test_util.h"
#include "volumes/volume_manager.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;
using testing::Json;
using testing::Mode;

bool g_private_mounts = false;

class PrivateMountNamespace : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::geteuid() != 0) return;
    if (::unshare(CLONE_NEWNS) != 0) return;
    g_private_mounts = ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
  }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PrivateMountNamespace);

int MountsAt(const std::string& path) {
  Result<std::vector<MountEntry>> entries = ReadMountInfo();
  if (!entries.ok()) return -1;
  return static_cast<int>(std::count_if(entries->begin(), entries->end(), [&](const MountEntry& e) {
    return e.mount_point == path;
  }));
}

bool OnTmpfs(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

class VolumesPrivTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root");
    BERTH_REQUIRE(g_private_mounts, "a private mount namespace (unshare(CLONE_NEWNS))");
    ASSERT_TRUE(MkdirAll(host_dir_).ok());
    ASSERT_TRUE(WriteFile(host_dir_ + "/precious", "keep me").ok());
    sources_.config_map = [this](const std::string& ns,
                                 const std::string& name) -> Result<bj::object> {
      auto it = objects_.find("cm/" + ns + "/" + name);
      if (it == objects_.end()) return Error(Errc::kNotFound, "not found");
      return it->second;
    };
    sources_.secret = [this](const std::string& ns, const std::string& name) -> Result<bj::object> {
      auto it = objects_.find("secret/" + ns + "/" + name);
      if (it == objects_.end()) return Error(Errc::kNotFound, "not found");
      return it->second;
    };
    sources_.token = [this](const std::string&, const std::string& sa, const std::string&,
                            int64_t seconds, const std::string&, const std::string&)
        -> Result<std::pair<std::string, std::chrono::system_clock::time_point>> {
      return std::pair{sa + "-token-" + std::to_string(++tokens_issued_),
                       std::chrono::system_clock::now() + std::chrono::seconds(seconds)};
    };
    sources_.node.memory = 1LL << 30;
    SetSecret("db", {{"password", "hunter2"}, {"user", "admin"}});
    objects_["cm/default/cfg"] = Json(R"({"data": {"app.conf": "x=1"}})");
  }

  void TearDown() override {
    // Whatever a failed test left mounted goes with the namespace; the
    // directories go with the TempDir once unmounted.
    if (g_private_mounts) {
      Result<std::vector<std::string>> left = MountPointsUnder(Root());
      if (left.ok()) {
        for (const std::string& point : *left)
          (void)Unmount(point);
      }
    }
  }

  std::string Root() const {
    char buf[PATH_MAX];
    return ::realpath(root_.c_str(), buf) != nullptr ? std::string(buf) : root_;
  }

  void SetSecret(const std::string& name, const std::map<std::string, std::string>& data) {
    bj::object encoded;
    for (const auto& [k, v] : data)
      encoded[k] = Base64Encode(v);
    objects_["secret/default/" + name] = bj::object{{"data", encoded}};
  }

  bj::object Pod(std::string_view spec_extra, std::string_view volumes_json) {
    return Json(R"({"metadata": {"name": "p", "namespace": "default", "uid": "uid-1",
                                 "labels": {"app": "web"}},
                    "spec": {"serviceAccountName": "robot", )" +
                std::string(spec_extra) + R"("volumes": )" + std::string(volumes_json) + "}}");
  }

  berth::testing::TempDir tmp_{"berth-volumes-priv"};
  std::string root_ = tmp_ / "root";
  std::string host_dir_ = tmp_ / "host";
  Sources sources_;
  std::map<std::string, bj::object> objects_;
  int tokens_issued_ = 0;
};

TEST_F(VolumesPrivTest, SecretLivesOnTmpfsWithTheRequestedModes) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(R"("containers": [{"name": "c"}],)", R"([
      {"name": "creds", "secret": {"secretName": "db", "defaultMode": 288,
                                   "items": [{"key": "password", "path": "pw", "mode": 256},
                                             {"key": "user", "path": "etc/user"}]}}])");
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_TRUE(r.ok()) << r.error().str();
  const MountedVolume& creds = r->at("creds");
  EXPECT_TRUE(creds.read_only);
  EXPECT_EQ(creds.host_path, Root() + "/pods/uid-1/volumes/kubernetes.io~secret/creds");
  EXPECT_EQ(MountsAt(creds.host_path), 1);
  EXPECT_TRUE(OnTmpfs(creds.host_path));
  EXPECT_EQ(*ReadFile(creds.host_path + "/pw"), "hunter2");
  EXPECT_EQ(Mode(creds.host_path + "/pw"), 0400);
  EXPECT_EQ(*ReadFile(creds.host_path + "/etc/user"), "admin");
  EXPECT_EQ(Mode(creds.host_path + "/etc/user"), 0440);

  // Idempotent: no second mount; a changed secret reaches the volume.
  ASSERT_TRUE(manager.SetUp(pod).ok());
  EXPECT_EQ(MountsAt(creds.host_path), 1);
  SetSecret("db", {{"password", "correct horse"}, {"user", "admin"}});
  ASSERT_TRUE(manager.Refresh(pod).ok());
  EXPECT_EQ(*ReadFile(creds.host_path + "/pw"), "correct horse");
  EXPECT_EQ(Mode(creds.host_path + "/pw"), 0400);

  ASSERT_TRUE(manager.TearDown("uid-1").ok());
  EXPECT_EQ(MountsAt(creds.host_path), 0);
  EXPECT_FALSE(PathExists(Root() + "/pods/uid-1"));
}

TEST_F(VolumesPrivTest, SecretContentsNeverLandOnDisk) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(R"("containers": [{"name": "c"}],)",
                       R"([{"name": "creds", "secret": {"secretName": "db"}}])");
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_TRUE(r.ok()) << r.error().str();
  std::string dir = r->at("creds").host_path;
  // The tmpfs vanishes under the agent (someone unmounted it): a refresh
  // must not write the secret to the directory beneath.
  ASSERT_TRUE(Unmount(dir).ok());
  EXPECT_TRUE(manager.Refresh(pod).ok());
  EXPECT_TRUE(ListDir(dir)->empty());
  // SetUp mounts it again, once.
  ASSERT_TRUE(manager.SetUp(pod).ok());
  EXPECT_EQ(MountsAt(dir), 1);
  EXPECT_EQ(*ReadFile(dir + "/password"), "hunter2");
}

TEST_F(VolumesPrivTest, AFailedSetUpLeavesNoMountBehind) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(R"("containers": [{"name": "c"}],)", R"([
      {"name": "creds", "secret": {"secretName": "db",
                                   "items": [{"key": "password", "path": "../escape"}]}}])");
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(),
            "MountVolume.SetUp failed for volume \"creds\" : invalid path: must "
            "not contain '..': ../escape");
  std::string dir = Root() + "/pods/uid-1/volumes/kubernetes.io~secret/creds";
  EXPECT_EQ(MountsAt(dir), 0);
  EXPECT_FALSE(PathExists(dir));
}

TEST_F(VolumesPrivTest, MemoryEmptyDirHasItsSizeLimit) {
  VolumeManager manager(root_, sources_);
  bj::object pod =
      Pod(R"("containers": [{"name": "c", "resources": {"limits": {"memory": "64Mi"}}}],)", R"([
      {"name": "small", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}},
      {"name": "pod-bound", "emptyDir": {"medium": "Memory"}},
      {"name": "disk", "emptyDir": {"sizeLimit": "8Mi"}}])");
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_TRUE(r.ok()) << r.error().str();
  auto size_of = [](const std::string& path) {
    struct statfs fs {};
    ::statfs(path.c_str(), &fs);
    return static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_bsize);
  };
  const std::string& small = r->at("small").host_path;
  EXPECT_TRUE(OnTmpfs(small));
  EXPECT_EQ(size_of(small), 8LL << 20);
  EXPECT_EQ(size_of(r->at("pod-bound").host_path), 64LL << 20);
  EXPECT_FALSE(r->at("small").read_only);
  EXPECT_EQ(Mode(small), 01777);  // a tmpfs root, as upstream's
  EXPECT_EQ(MountsAt(r->at("disk").host_path), 0);

  // A full tmpfs refuses more.
  std::string blob(9 << 20, 'x');
  EXPECT_FALSE(WriteFile(small + "/blob", blob).ok());
  ASSERT_TRUE(RemoveAll(small + "/blob").ok());

  ASSERT_TRUE(WriteFile(small + "/kept", "1").ok());
  ASSERT_TRUE(manager.SetUp(pod).ok());
  EXPECT_EQ(MountsAt(small), 1);
  EXPECT_EQ(*ReadFile(small + "/kept"), "1");
}

TEST_F(VolumesPrivTest, TearDownUnmountsEverythingBelowThePodAndSparesHostPaths) {
  bj::object pod = Pod(R"("containers": [{"name": "c"}],)", R"([
      {"name": "mem", "emptyDir": {"medium": "Memory"}},
      {"name": "scratch", "emptyDir": {}},
      {"name": "creds", "secret": {"secretName": "db"}},
      {"name": "info", "downwardAPI": {"items": [
          {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
      {"name": "host", "hostPath": {"path": ")" + host_dir_ + R"("}}])");
  std::string scratch;
  {
    VolumeManager manager(root_, sources_);
    Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
    ASSERT_TRUE(r.ok()) << r.error().str();
    scratch = r->at("scratch").host_path;
  }
  // What else may be mounted below a pod: a subPath-style bind mount of a
  // host directory, and a mount inside a tmpfs volume.
  std::string bind = scratch + "/bound";
  ASSERT_TRUE(MkdirAll(bind).ok());
  ASSERT_EQ(::mount(host_dir_.c_str(), bind.c_str(), nullptr, MS_BIND, nullptr), 0);
  std::string nested = Root() + "/pods/uid-1/volumes/kubernetes.io~empty-dir/mem/nested";
  ASSERT_TRUE(MkdirAll(nested).ok());
  ASSERT_TRUE(MountTmpfs(nested, 1 << 20).ok());
  ASSERT_EQ(MountPointsUnder(Root() + "/pods/uid-1")->size(), 5u);

  // As after an agent restart: a new manager, knowing only the disk.
  VolumeManager restarted(root_, sources_);
  EXPECT_EQ(restarted.PodsOnDisk(), std::vector<std::string>{"uid-1"});
  Status s = restarted.TearDown("uid-1");
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_TRUE(MountPointsUnder(Root())->empty());
  EXPECT_FALSE(PathExists(Root() + "/pods/uid-1"));
  EXPECT_EQ(*ReadFile(host_dir_ + "/precious"), "keep me");
}

TEST_F(VolumesPrivTest, FsGroupOwnsWritableAndProjectedVolumes) {
  VolumeManager manager(root_, sources_);
  bj::object pod = Pod(
      R"("securityContext": {"fsGroup": 4321, "runAsUser": 1234},
         "containers": [{"name": "c"}],)",
      R"([{"name": "scratch", "emptyDir": {}},
          {"name": "mem", "emptyDir": {"medium": "Memory"}},
          {"name": "cfg", "configMap": {"name": "cfg"}},
          {"name": "creds", "secret": {"secretName": "db", "defaultMode": 256}},
          {"name": "token", "projected": {"sources": [
              {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]}}])");
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_TRUE(r.ok()) << r.error().str();
  auto gid = [](const std::string& path) { return testing::Stat(path).st_gid; };

  const std::string& scratch = r->at("scratch").host_path;
  EXPECT_EQ(gid(scratch), 4321u);
  EXPECT_EQ(Mode(scratch), 02777);
  EXPECT_EQ(gid(r->at("mem").host_path), 4321u);
  EXPECT_EQ(Mode(r->at("mem").host_path), 03777);

  const std::string& cfg = r->at("cfg").host_path;
  EXPECT_EQ(gid(cfg + "/app.conf"), 4321u);
  EXPECT_EQ(Mode(cfg + "/app.conf"), 0644);
  EXPECT_EQ(Mode(cfg + "/..data"), 02755);  // the data dir, through the link

  const std::string& creds = r->at("creds").host_path;
  EXPECT_EQ(gid(creds + "/password"), 4321u);
  EXPECT_EQ(Mode(creds + "/password"), 0440);

  const std::string& token = r->at("token").host_path;
  EXPECT_TRUE(OnTmpfs(token));
  struct stat st = testing::Stat(token + "/token");
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 4321u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(*ReadFile(token + "/token"), "robot-token-1");

  // A refresh with nothing new rewrites nothing (the ownership bits do
  // not count as a change).
  std::string data = testing::LinkTarget(creds + "/..data");
  ASSERT_TRUE(manager.Refresh(pod).ok());
  EXPECT_EQ(testing::LinkTarget(creds + "/..data"), data);
}

TEST_F(VolumesPrivTest, DownwardApiAndProjectedFollowThePod) {
  VolumeManager manager(root_, sources_);
  std::string volumes = R"([
      {"name": "info", "downwardAPI": {"items": [
          {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
      {"name": "all", "projected": {"sources": [
          {"configMap": {"name": "cfg"}},
          {"secret": {"name": "db", "items": [{"key": "user", "path": "user"}]}},
          {"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}]}}])";
  bj::object pod = Pod(R"("containers": [{"name": "c"}],)", volumes);
  Result<std::map<std::string, MountedVolume>> r = manager.SetUp(pod);
  ASSERT_TRUE(r.ok()) << r.error().str();
  const std::string& info = r->at("info").host_path;
  const std::string& all = r->at("all").host_path;
  EXPECT_TRUE(OnTmpfs(info));
  EXPECT_TRUE(OnTmpfs(all));
  EXPECT_EQ(*ReadFile(info + "/labels"), "app=\"web\"");
  EXPECT_EQ(*ReadFile(all + "/app.conf"), "x=1");
  EXPECT_EQ(*ReadFile(all + "/user"), "admin");
  EXPECT_EQ(*ReadFile(all + "/name"), "p");

  pod["metadata"].as_object()["labels"].as_object()["tier"] = "front";
  objects_["cm/default/cfg"] = Json(R"({"data": {"app.conf": "x=2"}})");
  ASSERT_TRUE(manager.Refresh(pod).ok());
  EXPECT_EQ(*ReadFile(info + "/labels"), "app=\"web\"\ntier=\"front\"");
  EXPECT_EQ(*ReadFile(all + "/app.conf"), "x=2");
  ASSERT_TRUE(manager.TearDown("uid-1").ok());
  EXPECT_TRUE(MountPointsUnder(Root())->empty());
}

}  // namespace
}  // namespace berth::volumes
