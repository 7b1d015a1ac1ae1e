// berth's CRI stubs (runtime/cri/proto) against a real CRI server: Debian's
// containerd 1.6 with its CRI plugin, over its unix socket. Proves the
// generated client and containerd agree on service names, method paths and
// field numbers for the calls a kubelet makes first.
//
// containerd runs with a config of this test's own (integration/containerd's
// daemon kit keeps CRI disabled): root, state, sockets, runc root, CNI dirs
// and the debug log all in one temp dir; the CNI conf dir is empty, so the
// runtime reports NetworkReady=false. No pod is started, so the sandbox
// image is never pulled.

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/containerd/containerd_daemon.h"
#include "runtime/cri/proto/api.grpc.pb.h"

namespace berth::integration {
namespace {

namespace v1 = ::runtime::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kContainerd[] = "/usr/bin/containerd";

// Error-level lines containerd 1.6 logs in this setup by design: the CRI
// plugin finds no CNI config in the (empty) conf dir at startup.
constexpr const char* kExpectedErrors[] = {
    "failed to load cni during init",
};

std::string Quote(const std::string& s) {
  return "\"" + s + "\"";
}

// containerd config v2 with the CRI plugin on and pointed into `dir`.
std::string CriConfig(const std::string& dir) {
  const std::string cri = "[plugins.\"io.containerd.grpc.v1.cri\"]";
  const std::string cri_prefix = "[plugins.\"io.containerd.grpc.v1.cri\".";
  std::string c;
  c += "version = 2\n";
  c += "root = " + Quote(dir + "/root") + "\n";
  c += "state = " + Quote(dir + "/state") + "\n";
  // opt writes /opt/containerd; the others are filesystems this host lacks.
  c += "disabled_plugins = [\"io.containerd.internal.v1.opt\", "
       "\"io.containerd.snapshotter.v1.aufs\", \"io.containerd.snapshotter.v1.btrfs\", "
       "\"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.snapshotter.v1.zfs\"]\n";
  c += "[grpc]\n  address = " + Quote(dir + "/containerd.sock") + "\n";
  c += "[ttrpc]\n  address = " + Quote(dir + "/containerd.sock.ttrpc") + "\n";
  c += "[debug]\n  level = \"debug\"\n";
  c += cri + "\n";
  c += "  sandbox_image = \"berth.invalid/pause:unused\"\n";
  c += "  restrict_oom_score_adj = true\n";  // CAP_SYS_RESOURCE is missing here
  c += "  netns_mounts_under_state_dir = true\n";
  c += "  stream_server_address = \"127.0.0.1\"\n";
  c += "  stream_server_port = \"0\"\n";  // any free port
  c += cri_prefix + "cni]\n";
  c += "  bin_dir = " + Quote(dir + "/cni/bin") + "\n";
  c += "  conf_dir = " + Quote(dir + "/cni/net.d") + "\n";
  c += cri_prefix + "containerd.runtimes.runc]\n";
  c += "  runtime_type = \"io.containerd.runc.v2\"\n";
  c += cri_prefix + "containerd.runtimes.runc.options]\n";
  c += "  Root = " + Quote(dir + "/runc") + "\n";
  c += cri_prefix + "registry]\n";
  c += "  config_path = " + Quote(dir + "/certs.d") + "\n";
  return c;
}

// One containerd for the whole suite: started once, stopped by pid at the
// end, its directory removed whatever happened.
class CriProtoContainerdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::IsRoot() || !PathExists(kContainerd)) return;  // SetUp skips
    dir_ = new testing::TempDir("berth-criproto");
    Status started = Start();
    if (!started.ok()) startup_error_ = new std::string(started.error().str());
  }

  static void TearDownTestSuite() {
    runtime_.reset();
    images_.reset();
    if (dir_ == nullptr) return;
    Status stopped = Stop();
    EXPECT_TRUE(stopped.ok()) << stopped.error().str();
    KillShims(dir_->path());  // none expected: no pod runs
    Status unmounted = UnmountUnder(dir_->path());
    EXPECT_TRUE(unmounted.ok()) << unmounted.error().str();
    const ::testing::TestSuite* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (startup_error_ != nullptr || (suite != nullptr && suite->failed_test_count() > 0))
      std::cerr << "containerd log:\n" << Log() << "\n";
    delete startup_error_;
    startup_error_ = nullptr;
    delete dir_;  // removes everything below it
    dir_ = nullptr;
  }

  void SetUp() override {
    BERTH_REQUIRE(testing::IsRoot(), "containerd needs root");
    BERTH_REQUIRE(PathExists(kContainerd), std::string(kContainerd) + " (package containerd)");
    ASSERT_EQ(startup_error_, nullptr) << *startup_error_;
  }

  static Status Start() {
    const std::string& dir = dir_->path();
    for (const char* sub : {"/cni/bin", "/cni/net.d", "/runc", "/certs.d"})
      BERTH_TRY(MkdirAll(dir + sub, 0700));
    BERTH_TRY(WriteFile(dir + "/config.toml", CriConfig(dir), 0600));
    BERTH_TRY(Launch());
    auto channel = grpc::CreateChannel("unix://" + dir + "/containerd.sock",
                                       grpc::InsecureChannelCredentials());
    runtime_ = v1::RuntimeService::NewStub(channel);
    images_ = v1::ImageService::NewStub(channel);
    return WaitReady();
  }

  static Status Launch() {
    std::string config = dir_->path() + "/config.toml";
    std::string log = dir_->path() + "/containerd.log";
    UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log_fd) return Error::Sys("open", log);
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null) return Error::Sys("open", "/dev/null");
    const char* argv[] = {kContainerd, "--config", config.c_str(), nullptr};
    pid_t pid = ::fork();
    if (pid < 0) return Error::Sys("fork", kContainerd);
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // if the test dies, containerd goes too
      if (::dup2(null.get(), 0) < 0 || ::dup2(log_fd.get(), 1) < 0 || ::dup2(log_fd.get(), 2) < 0)
        _exit(127);
      ::execv(kContainerd, const_cast<char* const*>(argv));
      _exit(127);
    }
    pid_ = pid;
    return Ok();
  }

  // Until the CRI plugin answers Version (it reports "not initialized" for a
  // moment after the socket appears).
  static Status WaitReady() {
    std::string last = "no socket";
    for (int i = 0; i < 300; ++i) {  // 30 s
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Error(Errc::kUnavailable, "containerd exited during startup (" +
                                             std::to_string(ExitCodeFromWaitStatus(status)) + ")");
      }
      if (PathExists(dir_->path() + "/containerd.sock")) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + seconds(2));
        v1::VersionResponse resp;
        grpc::Status s = runtime_->Version(&ctx, v1::VersionRequest(), &resp);
        if (s.ok()) return Ok();
        last = s.error_message();
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return Error(Errc::kDeadlineExceeded,
                 "containerd's CRI did not answer Version within 30 s; last error: " + last);
  }

  // SIGTERM, SIGKILL after 10 s; reaps. Only our own child, by pid.
  static Status Stop() {
    if (pid_ <= 0) return Ok();
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return Ok();
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    (void)WaitPid(pid_);
    pid_ = -1;
    return Error(Errc::kDeadlineExceeded, "containerd did not exit within 10 s of SIGTERM");
  }

  static std::string Log() {
    Result<std::string> text = ReadFile(dir_->path() + "/containerd.log");
    return text.ok() ? *text : "(no log: " + text.error().str() + ")";
  }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + seconds(10));
    return ctx;
  }

  static const std::string& dir() { return dir_->path(); }

  static inline testing::TempDir* dir_ = nullptr;
  static inline std::string* startup_error_ = nullptr;
  static inline pid_t pid_ = -1;
  static inline std::unique_ptr<v1::RuntimeService::Stub> runtime_;
  static inline std::unique_ptr<v1::ImageService::Stub> images_;
};

TEST_F(CriProtoContainerdTest, Version) {
  v1::VersionRequest req;
  req.set_version("v1");
  v1::VersionResponse resp;
  grpc::Status s = runtime_->Version(Context().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(resp.runtime_name(), "containerd");
  EXPECT_EQ(resp.runtime_api_version(), "v1");
  EXPECT_FALSE(resp.runtime_version().empty());
  EXPECT_FALSE(resp.version().empty());
}

TEST_F(CriProtoContainerdTest, StatusRuntimeReadyNetworkNot) {
  v1::StatusRequest req;
  v1::StatusResponse resp;
  grpc::Status s = runtime_->Status(Context().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  const v1::RuntimeCondition* runtime_ready = nullptr;
  const v1::RuntimeCondition* network_ready = nullptr;
  for (const v1::RuntimeCondition& c : resp.status().conditions()) {
    if (c.type() == "RuntimeReady") runtime_ready = &c;
    if (c.type() == "NetworkReady") network_ready = &c;
  }
  ASSERT_NE(runtime_ready, nullptr) << resp.DebugString();
  EXPECT_TRUE(runtime_ready->status()) << runtime_ready->DebugString();
  ASSERT_NE(network_ready, nullptr) << resp.DebugString();
  EXPECT_FALSE(network_ready->status()) << "the CNI conf dir is empty";
  EXPECT_FALSE(network_ready->reason().empty()) << network_ready->DebugString();
  EXPECT_TRUE(resp.info().empty()) << "info is for verbose requests only";
}

TEST_F(CriProtoContainerdTest, ListImagesEmpty) {
  v1::ListImagesRequest req;
  v1::ListImagesResponse resp;
  grpc::Status s = images_->ListImages(Context().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(resp.images_size(), 0) << resp.DebugString();
}

TEST_F(CriProtoContainerdTest, ImageFsInfoIsUnderOurRoot) {
  v1::ImageFsInfoRequest req;
  v1::ImageFsInfoResponse resp;
  grpc::Status s = images_->ImageFsInfo(Context().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  ASSERT_GE(resp.image_filesystems_size(), 1) << resp.DebugString();
  const v1::FilesystemUsage& fs = resp.image_filesystems(0);
  EXPECT_GT(fs.timestamp(), 0);
  EXPECT_TRUE(fs.fs_id().mountpoint().starts_with(dir() + "/root/")) << fs.fs_id().mountpoint();
  EXPECT_TRUE(fs.has_used_bytes());
  EXPECT_TRUE(fs.has_inodes_used());
}

TEST_F(CriProtoContainerdTest, ListPodSandboxEmpty) {
  v1::ListPodSandboxRequest req;
  req.mutable_filter()->mutable_state()->set_state(v1::SANDBOX_READY);
  v1::ListPodSandboxResponse resp;
  grpc::Status s = runtime_->ListPodSandbox(Context().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(resp.items_size(), 0) << resp.DebugString();
}

TEST_F(CriProtoContainerdTest, ImageStatusOfAbsentImageIsEmptyNotAnError) {
  v1::ImageStatusRequest req;
  req.mutable_image()->set_image("berth.invalid/absent:never");
  v1::ImageStatusResponse resp;
  grpc::Status s = images_->ImageStatus(Context().get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_FALSE(resp.has_image()) << resp.DebugString();
}

// Last: the log of a fresh daemon holds no unexpected error-level line.
TEST_F(CriProtoContainerdTest, LogHasNoUnexpectedErrors) {
  v1::StatusRequest req;  // one round trip first, so startup is complete
  v1::StatusResponse resp;
  ASSERT_TRUE(runtime_->Status(Context().get(), req, &resp).ok());
  std::vector<std::string> unexpected;
  for (const std::string& line : SplitNonEmpty(Log(), '\n')) {
    bool error = line.find("level=error") != std::string::npos ||
                 line.find("level=fatal") != std::string::npos;
    if (!error) continue;
    bool expected = false;
    for (const char* e : kExpectedErrors)
      expected |= line.find(e) != std::string::npos;
    if (!expected) unexpected.push_back(line);
  }
  EXPECT_TRUE(unexpected.empty()) << Join(unexpected, "\n");
}

}  // namespace
}  // namespace berth::integration
