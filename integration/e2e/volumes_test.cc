// Acceptance 6: a ConfigMap change reaches a mounted configMap volume
// within 5 s; a Secret volume lives on a tmpfs of its own with the
// requested file modes (defaultMode, and items[].mode), laid out by the
// atomic writer (..data symlink).

#include <sys/stat.h>

#include <thread>

#include "common/file.h"
#include "integration/e2e/e2e_fixture.h"
#include "volumes/mounts.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

class VolumesTest : public E2eTest {};

TEST_F(VolumesTest, ConfigMapChangeReachesVolumeWithin5Seconds) {
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {value: one}
---
apiVersion: v1
kind: Pod
metadata: {name: watcher}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: cfg, configMap: {name: settings}}]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
)"));
  bj::value pod = WaitPod("watcher", "Running", seconds(30), [](const bj::value& p) {
    return StringAt(p, "/status/phase") == "Running";
  });
  ASSERT_FALSE(HasFailure());
  std::string file =
      up().VolumeDir(StringAt(pod, "/metadata/uid"), "kubernetes.io~configmap", "cfg") + "/value";
  EXPECT_EQ(ReadFile(file).value_or("(missing)"), "one");
  EXPECT_EQ(Kubectl({"exec", "watcher", "--", "cat", "/cfg/value"}).out, "one");

  auto changed = steady_clock::now();
  CommandResult patched = Kubectl(
      {"patch", "configmap", "settings", "--type=merge", "-p", R"({"data":{"value":"two"}})"});
  ASSERT_EQ(patched.exit_code, 0) << patched.err;
  bool arrived = Eventually(seconds(5), [&] { return ReadFile(file).value_or("") == "two"; });
  auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - changed);
  EXPECT_TRUE(arrived) << "the volume still has \"" << ReadFile(file).value_or("(missing)")
                       << "\" 5 s after the change";
  EXPECT_LE(took, seconds(5)) << took.count() << " ms";
  EXPECT_EQ(Kubectl({"exec", "watcher", "--", "cat", "/cfg/value"}).out, "two");
  std::printf("configMap change reached the volume in %lld ms\n",
              static_cast<long long>(took.count()));
}

TEST_F(VolumesTest, SecretOnTmpfsWithRequestedModes) {
  // Modes in decimal: 288 = 0440, 292 = 0444, 384 = 0600.
  ASSERT_TRUE(Apply(R"(
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {user: admin, token: e2e-token-value}
---
apiVersion: v1
kind: Pod
metadata: {name: secretive}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: all
    secret: {secretName: creds, defaultMode: 288}
  - name: picked
    secret:
      secretName: creds
      defaultMode: 292
      items: [{key: token, path: sub/token.txt, mode: 384}]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sleep", "3600"]
    volumeMounts:
    - {name: all, mountPath: /all}
    - {name: picked, mountPath: /picked}
)"));
  bj::value pod = WaitPod("secretive", "Running", seconds(30), [](const bj::value& p) {
    return StringAt(p, "/status/phase") == "Running";
  });
  ASSERT_FALSE(HasFailure());
  std::string uid = StringAt(pod, "/metadata/uid");
  std::string all = up().VolumeDir(uid, "kubernetes.io~secret", "all");
  std::string picked = up().VolumeDir(uid, "kubernetes.io~secret", "picked");

  Result<std::vector<volumes::MountEntry>> mounts = volumes::ReadMountInfo();
  ASSERT_TRUE(mounts.ok()) << mounts.error().str();
  for (const std::string& dir : {all, picked}) {
    bool tmpfs = false;
    for (const volumes::MountEntry& m : *mounts)
      tmpfs = tmpfs || (m.mount_point == dir && m.fs_type == "tmpfs");
    EXPECT_TRUE(tmpfs) << dir << " is not a tmpfs mount point";
  }

  auto mode_of = [](const std::string& path) -> int {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return static_cast<int>(st.st_mode & 07777);
  };
  auto is_symlink = [](const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
  };
  // The atomic writer's layout: <key> -> ..data/<key>, ..data -> a
  // timestamped directory.
  EXPECT_TRUE(is_symlink(all + "/..data"));
  EXPECT_TRUE(is_symlink(all + "/token"));
  EXPECT_EQ(ReadFile(all + "/token").value_or(""), "e2e-token-value");
  EXPECT_EQ(ReadFile(all + "/user").value_or(""), "admin");
  EXPECT_EQ(mode_of(all + "/..data/token"), 0440);
  EXPECT_EQ(mode_of(all + "/..data/user"), 0440);
  EXPECT_EQ(mode_of(picked + "/..data/sub/token.txt"), 0600);
  EXPECT_EQ(mode_of(picked + "/sub/token.txt"), 0600);
  EXPECT_FALSE(PathExists(picked + "/user")) << "items lists only the token";
  EXPECT_EQ(ReadFile(picked + "/sub/token.txt").value_or(""), "e2e-token-value");
  // And the container sees the same.
  EXPECT_EQ(Kubectl({"exec", "secretive", "--", "cat", "/picked/sub/token.txt"}).out,
            "e2e-token-value");
  CommandResult listed = Kubectl({"exec", "secretive", "--", "ls", "-l", "/all/..data/"});
  EXPECT_NE(listed.out.find("-r--r-----"), std::string::npos) << listed.out << listed.err;
}

}  // namespace
}  // namespace berth::e2e
