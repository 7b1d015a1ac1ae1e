// `berth cri` in the vm tier's guest (pure cgroup v2), driven over its socket
// as kubelet drives it: a container over its memory limit is OOM-killed by
// the kernel and ContainerStatus reports it as kubelet expects (EXITED,
// reason "OOMKilled", exit code 137); one under the same limit completes.
//
// No network: the pod uses the host's network namespace (no CNI; the CNI
// configuration directory is empty), and the image is built from the busybox
// fixture rootfs with umoci + skopeo and loaded with `berth image import`
// into berth cri's image root before the daemon starts. The pod's
// cgroup_parent is /berth-crivm-<pid> (as kubelet's cgroupfs driver sets
// /kubepods/...): every cgroup the test makes lives there, and TearDown
// removes it, also after a failure. Off the guest it skips (fails in CI).

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cgroups/cgroupfs.h"
#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/cri/cri_calls.h"
#include "integration/cri/cri_daemon.h"
#include "integration/fixtures/image_layout.h"

namespace berth::integration {
namespace {

using namespace std::chrono_literals;

constexpr char kCgroupMount[] = "/sys/fs/cgroup";
constexpr char kImage[] = "berth.test/busybox:latest";
constexpr int64_t kLimit = 32 << 20;

// Our live children (/proc/self/task/*/children, zombies reaped first):
// with the subreaper bit (cri_vm_main.cc) that includes the shims berth cri
// detached. Waits up to `grace` for them to go away on their own.
std::vector<pid_t> LiveChildren(std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  std::vector<pid_t> out;
  for (;;) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    out.clear();
    for (const std::string& tid : ListDir("/proc/self/task").value_or({})) {
      std::string text = ReadFile("/proc/self/task/" + tid + "/children").value_or("");
      for (const std::string& word : SplitNonEmpty(Trim(text), ' ')) {
        Result<int> pid = ParseInt<int>(word, "pid");
        if (pid.ok()) out.push_back(*pid);
      }
    }
    if (out.empty() || std::chrono::steady_clock::now() >= deadline) return out;
    std::this_thread::sleep_for(100ms);
  }
}

std::string Cmdline(pid_t pid) {
  std::string text = ReadFile("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return std::string(Trim(text));
}

// Elapsed wall clock per phase on stderr: TCG is slow, and the numbers say
// where the time goes.
class Phase {
 public:
  explicit Phase(std::string name)
      : name_(std::move(name)), start_(std::chrono::steady_clock::now()) {}
  ~Phase() {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start_)
                  .count();
    std::fprintf(stderr, "cri_vm_test: %s took %lld ms\n", name_.c_str(),
                 static_cast<long long>(ms));
  }

 private:
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

class CriVmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE_VM();
    BERTH_REQUIRE(PathExists("/usr/bin/umoci") && PathExists("/usr/bin/skopeo"),
                  "umoci and skopeo (run .ci/setup)");
    std::string rootfs = testing::BuiltBinary("integration/fixtures/busybox-rootfs");
    ASSERT_TRUE(PathExists(rootfs + "/bin/berth-probe")) << rootfs << " is not built";
    // Set only once known to be new: TearDown kills and removes it.
    std::string parent = "/berth-crivm-" + std::to_string(::getpid());
    ASSERT_FALSE(PathExists(kCgroupMount + parent)) << parent << " exists";
    cgroup_parent_ = parent;
    cgroup_dir_ = kCgroupMount + parent;
    // The guest's /tmp is overlayfs, which the kernel refuses as an
    // overlay's upperdir (EINVAL), so the containers' rootfs overlays need
    // another filesystem: a tmpfs over the test's dir, in the test's own
    // mount namespace (cri_vm_main.cc), which berth cri and its shims share.
    ASSERT_EQ(
        ::mount("berth-crivm", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700"), 0)
        << "mount tmpfs on " << dir_.path() << ": " << std::strerror(errno);
    tmpfs_mounted_ = true;

    ASSERT_NO_FATAL_FAILURE(ImportImage(rootfs));
    ASSERT_TRUE(MkdirAll(dir_ / "net.d", 0755).ok());  // empty: host network only
    Phase phase("starting berth cri");
    CriDaemonOptions o;
    o.dir = dir_.path();
    o.cni_conf_dir = dir_ / "net.d";
    auto cri = CriDaemon::Start(o);
    ASSERT_TRUE(cri.ok()) << cri.error().str();
    cri_ = std::move(*cri);
  }

  void TearDown() override {
    if (cri_) {
      for (const std::string& id : sandboxes_) {
        grpc::Status s = Calls().RemovePod(id);
        EXPECT_TRUE(s.ok()) << "RemovePodSandbox " << id << ": " << s.error_message();
      }
      // RemovePodSandbox removes the containers' cgroups (the pod's parent
      // is the test's to remove).
      if (!sandboxes_.empty() && PathExists(cgroup_dir_)) {
        std::vector<std::string> left;
        for (const std::string& name : ListDir(cgroup_dir_).value_or({})) {
          if (PathExists(cgroup_dir_ + "/" + name + "/cgroup.procs")) left.push_back(name);
        }
        EXPECT_TRUE(left.empty()) << "cgroups left in " << cgroup_dir_ << ": " << Join(left, " ");
      }
      if (HasFailure()) std::fprintf(stderr, "berth cri log:\n%s\n", cri_->Log().c_str());
      cri_->Stop();
      cri_.reset();
    }
    // Whatever is left: processes in the pod's cgroups, then shims and
    // anything else we (as subreaper) inherited. All were started by this
    // test; the guest is ours alone while it runs.
    if (!cgroup_dir_.empty() && PathExists(cgroup_dir_)) {
      (void)cgroups::WriteKnob(cgroup_dir_, "cgroup.kill", "1");
    }
    for (pid_t pid : LiveChildren(5s)) {
      ADD_FAILURE() << "process " << pid << " (" << Cmdline(pid) << ") left behind; killed";
      ::kill(pid, SIGKILL);
    }
    while (::waitpid(-1, nullptr, 0) > 0) {
    }
    if (tmpfs_mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
    if (!cgroup_dir_.empty() && PathExists(cgroup_dir_)) {
      Status removed = cgroups::RemoveCgroup(cgroup_dir_);
      EXPECT_TRUE(removed.ok()) << removed.error().str();
    }
    EXPECT_FALSE(!cgroup_dir_.empty() && PathExists(cgroup_dir_)) << cgroup_dir_ << " left behind";
  }

  // The fixture rootfs as an image named kImage in berth cri's image root
  // (<root>/images): umoci layout -> docker-archive -> `berth image import`.
  void ImportImage(const std::string& rootfs) {
    std::string work = dir_ / "image";
    ASSERT_TRUE(MkdirAll(work, 0700).ok());
    {
      Phase phase("building the image archive (umoci, skopeo)");
      Result<std::string> layout = BuildOciLayout(rootfs, work, {"/bin/sh"});
      ASSERT_TRUE(layout.ok()) << layout.error().str();
      Result<std::string> archive =
          SkopeoArchive(*layout, "docker-archive", work + "/busybox.tar", kImage);
      ASSERT_TRUE(archive.ok()) << archive.error().str();
    }
    Phase phase("berth image import");
    Command cmd;
    cmd.argv = {testing::BuiltBinary("cmd/berth"),
                "image",
                "--root",
                dir_ / "root/images",
                "import",
                work + "/busybox.tar"};
    cmd.timeout = 300s;
    Result<CommandResult> r = RunCommand(cmd);
    ASSERT_TRUE(r.ok()) << r.error().str();
    ASSERT_TRUE(r->success()) << r->Describe() << ": " << r->err;
    EXPECT_EQ(r->out.rfind(std::string(kImage) + " sha256:", 0), 0u) << r->out;
  }

  v1::PodSandboxConfig PodConfig(const std::string& name) {
    v1::PodSandboxConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_metadata()->set_namespace_("default");
    c.mutable_metadata()->set_uid("uid-" + name);
    c.set_log_directory(dir_ / ("logs/" + name));
    c.mutable_linux()->set_cgroup_parent(cgroup_parent_);
    c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
        v1::NODE);
    return c;
  }

  CriCalls Calls() { return CriCalls(&cri_->runtime(), 120s); }

  std::string RunPod(const v1::PodSandboxConfig& config) {
    Phase phase("RunPodSandbox");
    std::string id = Calls().RunPod(config);
    if (!id.empty()) sandboxes_.push_back(id);
    return id;
  }

  // A container running `berth-probe memhog <mib>` under memory.max kLimit.
  v1::ContainerConfig Memhog(const std::string& name, int mib) {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(kImage);
    for (const std::string& a :
         {std::string("/bin/berth-probe"), std::string("memhog"), std::to_string(mib)}) {
      c.add_args(a);
    }
    c.set_log_path(name + "/0.log");
    c.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(kLimit);
    return c;
  }

  std::string CreateAndStart(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                             const v1::ContainerConfig& config) {
    Phase phase("CreateContainer + StartContainer " + config.metadata().name());
    return Calls().CreateAndStart(pod, pod_config, config);
  }

  v1::ContainerStatus StatusOf(const std::string& id) { return Calls().ContainerStatus(id); }

  // Polls until the container has exited (TCG: allow minutes).
  v1::ContainerStatus WaitExited(const std::string& id) {
    Phase phase("waiting for " + id.substr(0, 12) + " to exit");
    return Calls().WaitExited(id, 180s, 200ms);
  }

  // A flat-keyed knob of the container's cgroup (it stays until the
  // container is removed), -1 when unreadable.
  int64_t CgroupValue(const std::string& id, const std::string& file, const std::string& key) {
    std::string text = ReadFile(cgroup_dir_ + "/" + id + "/" + file).value_or("");
    for (const std::string& line : SplitNonEmpty(text, '\n')) {
      std::vector<std::string> f = SplitNonEmpty(line, ' ');
      if (key.empty() && f.size() == 1) return ParseInt<int64_t>(f[0], file).value_or(-1);
      if (f.size() == 2 && f[0] == key) return ParseInt<int64_t>(f[1], key).value_or(-1);
    }
    return -1;
  }

  testing::TempDir dir_{"berth-crivm"};
  std::string cgroup_parent_, cgroup_dir_;
  std::unique_ptr<CriDaemon> cri_;
  std::vector<std::string> sandboxes_;
  bool tmpfs_mounted_ = false;
};

TEST_F(CriVmTest, ContainerOverItsMemoryLimitIsReportedOomKilled) {
  v1::PodSandboxConfig pod = PodConfig("oom");
  std::string sandbox = RunPod(pod);
  ASSERT_FALSE(sandbox.empty());
  std::string hog = CreateAndStart(sandbox, pod, Memhog("hog", 128));
  std::string modest = CreateAndStart(sandbox, pod, Memhog("modest", 8));
  ASSERT_FALSE(hog.empty());
  ASSERT_FALSE(modest.empty());

  v1::ContainerStatus h = WaitExited(hog);
  ASSERT_EQ(h.state(), v1::CONTAINER_EXITED) << "the hog did not exit";
  EXPECT_EQ(h.reason(), "OOMKilled");
  EXPECT_EQ(h.exit_code(), 137);
  EXPECT_GT(h.finished_at(), 0);
  // What the kernel did, to tell a berth bug from a missing limit.
  EXPECT_EQ(CgroupValue(hog, "memory.max", ""), kLimit);
  EXPECT_GE(CgroupValue(hog, "memory.events", "oom_kill"), 1);
  std::vector<std::string> hog_log = LogLines(h.log_path());
  auto logged = [&](const char* line) {
    return std::find(hog_log.begin(), hog_log.end(), line) != hog_log.end();
  };
  EXPECT_TRUE(logged("stdout F memhog: touched 16 MiB")) << "the hog never ran: " << h.log_path();
  EXPECT_FALSE(logged("stdout F memhog: allocated 128 MiB")) << h.log_path();

  v1::ContainerStatus m = WaitExited(modest);
  ASSERT_EQ(m.state(), v1::CONTAINER_EXITED) << "the modest one did not exit";
  EXPECT_EQ(m.reason(), "Completed");
  EXPECT_EQ(m.exit_code(), 0);
  EXPECT_EQ(CgroupValue(modest, "memory.max", ""), kLimit);
  EXPECT_EQ(CgroupValue(modest, "memory.events", "oom_kill"), 0);
  std::vector<std::string> modest_log = LogLines(m.log_path());
  ASSERT_FALSE(modest_log.empty()) << m.log_path();
  EXPECT_EQ(modest_log.back(), "stdout F memhog: allocated 8 MiB");
}

}  // namespace
}  // namespace berth::integration
