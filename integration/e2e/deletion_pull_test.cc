// Acceptance 5, "a pod deleted during image pull is cleaned up", with the
// pull really in flight: the image comes from a docker-registry behind a
// proxy that passes its layer on slowly (a minute for the whole of it).
// The pod is deleted while the layer downloads. Upstream cancels the pod
// worker's context, which reaches the CRI PullImage call; so does the
// agent, so the pod goes at once, with no Pulled event and nothing left in
// the runtime. berth's runtime stops downloading when the call is
// cancelled, records no image, and the same image pulls fine afterwards.

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/file.h"
#include "integration/e2e/e2e_fixture.h"
#include "integration/e2e/throttled_proxy.h"
#include "integration/fixtures/image_layout.h"
#include "runtime/image/registry/tests/registry_process.h"

namespace berth::e2e {
namespace {

using image::registry::testing::PushLayout;
using image::registry::testing::RegistryProcess;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
namespace v1 = ::runtime::v1;

// How long the slow proxy takes for the image's layer.
constexpr int kSlowPullSeconds = 60;

class DeletionDuringPullTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    BERTH_REQUIRE(PathExists(image::registry::testing::kRegistryBinary) &&
                      PathExists(image::registry::testing::kSkopeo) && PathExists("/usr/bin/umoci"),
                  "docker-registry, skopeo and umoci (run .ci/setup)");
    ASSERT_NO_FATAL_FAILURE(ServeImage());
  }

  // A busybox image (one layer, about 1 MB) in a registry on 127.0.0.1,
  // and the proxy in front of it, throttled to take kSlowPullSeconds for
  // the layer. berth up's registry config dir says the proxy speaks plain
  // HTTP, as a user would for such a registry.
  void ServeImage() {
    std::string rootfs = work_ / "rootfs";
    ASSERT_TRUE(MkdirAll(rootfs + "/bin", 0755).ok());
    Result<std::string> busybox = ReadFile("/bin/busybox");
    ASSERT_TRUE(busybox.ok()) << busybox.error().str();
    ASSERT_TRUE(WriteFile(rootfs + "/bin/busybox", *busybox, 0755).ok());
    for (const char* applet : {"sh", "sleep"})
      ASSERT_EQ(::symlink("busybox", (rootfs + "/bin/" + applet).c_str()), 0) << applet;
    Result<std::string> layout =
        integration::BuildOciLayout(rootfs, work_.path(), {"sleep", "3600"});
    ASSERT_TRUE(layout.ok()) << layout.error().str();
    layer_size_ = LargestBlob(*layout);
    ASSERT_GE(layer_size_, uint64_t{256} << 10) << "the layer is too small to be slow";

    ASSERT_TRUE(MkdirAll(work_ / "registry", 0755).ok());
    Result<std::unique_ptr<RegistryProcess>> registry = RegistryProcess::Start(work_ / "registry");
    ASSERT_TRUE(registry.ok()) << registry.error().str();
    registry_ = std::move(*registry);
    Status pushed = PushLayout(*layout, "latest", registry_->host() + "/berth-e2e/slow:v1");
    ASSERT_TRUE(pushed.ok()) << pushed.error().str();

    Result<std::unique_ptr<ThrottledProxy>> proxy =
        ThrottledProxy::Start(registry_->port(), layer_size_ / kSlowPullSeconds);
    ASSERT_TRUE(proxy.ok()) << proxy.error().str();
    proxy_ = std::move(*proxy);
    image_ = proxy_->host() + "/berth-e2e/slow:v1";
    std::string hosts_dir = up().dir() + "/certs.d/" + proxy_->host();
    ASSERT_TRUE(MkdirAll(hosts_dir, 0755).ok());
    ASSERT_TRUE(
        WriteFileAtomic(hosts_dir + "/hosts.toml", "server = \"http://" + proxy_->host() + "\"\n")
            .ok());
  }

  // The layer is the layout's largest blob (the rest are small JSON).
  static uint64_t LargestBlob(const std::string& layout) {
    uint64_t largest = 0;
    std::string dir = layout + "/blobs/sha256";
    for (const std::string& name : ListDir(dir).value_or(std::vector<std::string>{})) {
      struct stat st {};
      if (::stat((dir + "/" + name).c_str(), &st) == 0)
        largest = std::max(largest, static_cast<uint64_t>(st.st_size));
    }
    return largest;
  }

  std::string PodManifest(const std::string& name) const {
    return R"(
apiVersion: v1
kind: Pod
metadata: {name: )" +
           name + R"(}
spec:
  containers:
  - name: c
    image: )" +
           image_ + R"(
    imagePullPolicy: Always
    command: ["sleep", "3600"]
)";
  }

  // Whether the runtime has `image` (a record, not just some of its blobs).
  bool RuntimeHasImage(const std::string& image) {
    agent::CriClient* cri = Cri();
    if (cri == nullptr) return false;
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(image);
    v1::ImageStatusResponse resp;
    Status s = cri->Call(&v1::ImageService::Stub::ImageStatus, req, &resp, "ImageStatus " + image);
    EXPECT_TRUE(s.ok()) << s.error().str();
    return s.ok() && resp.has_image();
  }

  // Waits until the proxy passed nothing more for 2 s; the bytes it passed.
  uint64_t QuietProxyBytes(seconds timeout) {
    auto deadline = steady_clock::now() + timeout;
    uint64_t before = proxy_->bytes_down();
    while (steady_clock::now() < deadline) {
      std::this_thread::sleep_for(seconds(2));
      uint64_t now = proxy_->bytes_down();
      if (now == before) return now;
      before = now;
    }
    ADD_FAILURE() << "the registry is still being read from " << timeout.count()
                  << " s after the pod was deleted (" << before << " of " << layer_size_
                  << " layer bytes passed)";
    return before;
  }

  testing::TempDir work_{"berth-e2e-pull"};
  std::unique_ptr<RegistryProcess> registry_;
  std::unique_ptr<ThrottledProxy> proxy_;
  std::string image_;
  uint64_t layer_size_ = 0;
};

TEST_F(DeletionDuringPullTest, PodDeletedWhileItsImageDownloadsGoesAtOnce) {
  ASSERT_TRUE(Apply(PodManifest("slow-pull")));
  ASSERT_TRUE(Eventually(seconds(30), [&] { return EventCount("slow-pull", "Pulling") > 0; }))
      << ::testing::PrintToString(EventReasons("slow-pull"));
  // The layer is on its way (the manifest and the config are a few hundred
  // bytes).
  ASSERT_TRUE(Eventually(seconds(15), [&] { return proxy_->bytes_down() > 8 << 10; }))
      << proxy_->bytes_down() << " bytes passed";
  bj::value pod = GetPod("slow-pull");
  std::string uid = StringAt(pod, "/metadata/uid");
  ASSERT_FALSE(uid.empty()) << Describe(pod);
  EXPECT_FALSE(RuntimeHasImage(image_));

  // Deleted with the default grace period (30 s): nothing runs yet, so the
  // agent has nothing to wait for but the pull, which it abandons.
  auto start = steady_clock::now();
  CommandResult deleted = Kubectl({"delete", "pod", "slow-pull", "--wait=false"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  bool gone = Eventually(seconds(10), [&] { return PodDeleted("slow-pull"); });
  auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  ASSERT_TRUE(gone) << "pod still there 10 s after kubectl delete, its image pull ("
                    << kSlowPullSeconds << " s) not abandoned:\n"
                    << Describe(GetPod("slow-pull"))
                    << "\nevents: " << ::testing::PrintToString(EventReasons("slow-pull"));
  std::printf("pod gone %lld ms after kubectl delete\n", static_cast<long long>(took.count()));

  // Nothing of it in the runtime, its volumes gone.
  EXPECT_TRUE(Eventually(seconds(10), [&] { return RuntimeObjectsOf(uid).empty(); }))
      << ::testing::PrintToString(RuntimeObjectsOf(uid));
  std::string pod_dir = up().data_dir() + "/agent/pods/" + uid;
  EXPECT_TRUE(Eventually(seconds(10), [&] { return !PathExists(pod_dir); })) << pod_dir;
  std::string log_dir = up().logs_dir() + "/" + ns() + "_slow-pull_" + uid;
  if (PathExists(log_dir)) std::printf("note: the pod's log directory %s stays\n", log_dir.c_str());

  // The runtime stopped downloading, far from the end of the layer, and
  // has no image record.
  uint64_t passed = QuietProxyBytes(seconds(20));
  std::printf("the runtime stopped after %llu of the layer's %llu bytes\n",
              static_cast<unsigned long long>(passed),
              static_cast<unsigned long long>(layer_size_));
  EXPECT_LT(passed, layer_size_ / 2) << "bytes passed of a " << layer_size_ << " byte layer";
  EXPECT_FALSE(RuntimeHasImage(image_));

  // Events as upstream: no Pulled; the abandoned pull fails once (the
  // reason a cancelled context gives), no back-off.
  EXPECT_EQ(EventCount("slow-pull", "Pulled"), 0);
  EXPECT_EQ(EventCount("slow-pull", "BackOff"), 0);
  EXPECT_LE(EventCount("slow-pull", "Failed"), 1);
  for (const std::string& m : EventMessages("slow-pull", "Failed")) {
    EXPECT_NE(m.find("context canceled"), std::string::npos) << m;
    std::printf("event Failed: %s\n", m.c_str());
  }

  // The same image at full speed: the cancelled pull left nothing in the way.
  proxy_->SetRate(0);
  ASSERT_TRUE(Apply(PodManifest("pulled-after")));
  WaitPod("pulled-after", "Running", seconds(30),
          [](const bj::value& p) { return StringAt(p, "/status/phase") == "Running"; });
  EXPECT_TRUE(Eventually(seconds(5), [&] { return EventCount("pulled-after", "Pulled") == 1; }))
      << ::testing::PrintToString(EventReasons("pulled-after"));
  EXPECT_TRUE(RuntimeHasImage(image_));
  EXPECT_GE(proxy_->bytes_down(), passed + layer_size_);
}

}  // namespace
}  // namespace berth::e2e
