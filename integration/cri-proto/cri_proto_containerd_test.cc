// berth's CRI stubs (runtime/cri/proto) against a real CRI server: Debian's
// containerd 1.6 with its CRI plugin, over its unix socket. Proves the
// generated client and containerd agree on service names, method paths and
// field numbers for the calls a kubelet makes first.
//
// containerd comes from integration/containerd's kit with the CRI plugin
// on: root, state, sockets, runc root, CNI dirs and the debug log all in
// one temp dir; the CNI conf dir is empty, so the runtime reports
// NetworkReady=false. No pod is started, so the sandbox image is never
// pulled.

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
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
    ContainerdOptions options;
    options.dir = dir_->path();
    options.cri.emplace();
    containerd_ = BERTH_TRY(Containerd::Start(options)).release();
    auto channel =
        grpc::CreateChannel("unix://" + containerd_->socket(), grpc::InsecureChannelCredentials());
    runtime_ = v1::RuntimeService::NewStub(channel);
    images_ = v1::ImageService::NewStub(channel);
    return WaitForCri();
  }

  // Until the CRI plugin answers Version (it reports "not initialized" for a
  // moment after containerd answers ctr).
  static Status WaitForCri() {
    std::string last;
    for (int i = 0; i < 300; ++i) {  // 30 s
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + seconds(2));
      v1::VersionResponse resp;
      grpc::Status s = runtime_->Version(&ctx, v1::VersionRequest(), &resp);
      if (s.ok()) return Ok();
      last = s.error_message();
      std::this_thread::sleep_for(milliseconds(100));
    }
    return Error(Errc::kDeadlineExceeded,
                 "containerd's CRI did not answer Version within 30 s; last error: " + last);
  }

  static Status Stop() {
    if (containerd_ == nullptr) return Ok();
    Status stopped = containerd_->Stop();
    delete containerd_;
    containerd_ = nullptr;
    return stopped;
  }

  static std::string Log() {
    if (containerd_ != nullptr) return containerd_->Log();
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
  static inline Containerd* containerd_ = nullptr;
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
