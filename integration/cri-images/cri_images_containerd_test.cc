// berth's ImageService next to containerd 1.6's CRI plugin: the same
// images from the same registry (docker-registry on 127.0.0.1) pulled
// through both, and the answers compared field by field. This is what
// "as containerd reports" means in runtime/cri/images/README.md. Root
// (containerd, overlay unpack): label priv.

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "common/file.h"
#include "common/json.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/containerd/containerd_daemon.h"
#include "integration/fixtures/image_layout.h"
#include "runtime/cri/images/image_service.h"
#include "runtime/cri/proto/api.grpc.pb.h"
#include "runtime/image/registry/tests/registry_process.h"

namespace berth::integration {
namespace {

namespace v1 = ::runtime::v1;
using image::registry::testing::PushLayout;
using image::registry::testing::RegistryProcess;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The registry over plain HTTP for containerd (its hosts.toml directory
// for "host:port", under both names containerd versions look for).
Status WriteHostsToml(const std::string& certs_d, const std::string& host) {
  std::string toml = "server = \"http://" + host + "\"\n[host.\"http://" + host +
                     "\"]\n  capabilities = [\"pull\", \"resolve\"]\n";
  std::string underscored = host;
  std::replace(underscored.begin(), underscored.end(), ':', '_');
  for (const std::string& name : {host, underscored + "_"}) {
    BERTH_TRY(MkdirAll(certs_d + "/" + name));
    BERTH_TRY(WriteFile(certs_d + "/" + name + "/hosts.toml", toml));
  }
  return Ok();
}

struct Suite {
  berth::testing::TempDir dir{"berth-cri-vs-ctrd"};
  std::unique_ptr<RegistryProcess> registry;
  std::unique_ptr<Containerd> containerd;
  std::unique_ptr<v1::ImageService::Stub> ctrd;
  std::unique_ptr<cri::ImageService> berth;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<v1::ImageService::Stub> ours;

  std::string Ref(const std::string& repo_tag) const { return registry->host() + "/" + repo_tag; }

  Status Init() {
    std::string rootfs = berth::testing::BuiltBinary("integration/fixtures/busybox-rootfs");
    std::string layout =
        BERTH_TRY(BuildOciLayout(rootfs, dir / "img", {"/bin/sh", "-c", "echo hi"}));
    BERTH_TRY(RunTool({"umoci", "config", "--image", layout + ":latest", "--tag", "named",
                       "--config.user", "nobody:nogroup", "--config.env", "A=1"}));
    BERTH_TRY(RunTool({"umoci", "config", "--image", layout + ":latest", "--tag", "numeric",
                       "--config.user", "1000"}));
    BERTH_TRY(MkdirAll(dir / "registry"));
    registry = BERTH_TRY(RegistryProcess::Start(dir / "registry"));
    for (const char* tag : {"v1", "v2"})
      BERTH_TRY(PushLayout(layout, "latest", Ref(std::string("demo/app:") + tag)));
    BERTH_TRY(PushLayout(layout, "named", Ref("demo/named:v1")));
    BERTH_TRY(PushLayout(layout, "numeric", Ref("demo/numeric:v1")));
    BERTH_TRY(StartContainerd());
    return StartBerth();
  }

  Status StartContainerd() {
    ContainerdOptions options;
    options.dir = dir / "containerd";
    options.cri.emplace().registry_config_path = options.dir + "/certs.d";
    BERTH_TRY(WriteHostsToml(options.cri->registry_config_path, registry->host()));
    containerd = BERTH_TRY(Containerd::Start(options));
    ctrd = v1::ImageService::NewStub(
        grpc::CreateChannel("unix://" + containerd->socket(), grpc::InsecureChannelCredentials()));
    // The CRI plugin answers a moment after containerd answers ctr.
    for (int i = 0; i < 300; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + seconds(2));
      v1::ImageFsInfoResponse resp;
      if (ctrd->ImageFsInfo(&ctx, v1::ImageFsInfoRequest(), &resp).ok()) return Ok();
      std::this_thread::sleep_for(milliseconds(100));
    }
    return Error(Errc::kDeadlineExceeded, "containerd's CRI did not answer within 30 s");
  }

  Status StartBerth() {
    cri::ImageServiceOptions options;
    options.root = dir / "berth";
    options.hosts.hosts_dir = "";
    options.fs_usage_ttl = milliseconds(0);
    berth = BERTH_TRY(cri::ImageService::Open(options));
    std::string address = "unix:" + (dir / "berth.sock");
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials());
    builder.RegisterService(berth.get());
    server = builder.BuildAndStart();
    if (!server) return Error(Errc::kInternal, "gRPC server on " + address);
    ours =
        v1::ImageService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    return Ok();
  }

  void Stop() {
    if (server) server->Shutdown(std::chrono::system_clock::now() + seconds(5));
    if (containerd) {
      Status stopped = containerd->Stop();  // SIGTERM, SIGKILL after 10 s
      EXPECT_TRUE(stopped.ok()) << stopped.error().str();
      containerd.reset();
    }
    Status unmounted = UnmountUnder(dir.path());
    EXPECT_TRUE(unmounted.ok()) << unmounted.error().str();
  }
};

Suite* suite = nullptr;

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + seconds(120));
  return ctx;
}

class CriImagesVsContainerdTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    if (suite == nullptr) return;
    suite->Stop();
    if (::testing::UnitTest::GetInstance()->failed_test_count() > 0) {
      std::cerr << "containerd log:\n"
                << ReadFile(suite->dir / "containerd/containerd.log").value_or("") << "\n";
    }
    delete suite;
    suite = nullptr;
  }

  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root");
    BERTH_REQUIRE(PathExists("/usr/bin/containerd"), "containerd (package containerd)");
    BERTH_REQUIRE(
        PathExists(berth::testing::BuiltBinary("integration/fixtures/busybox-rootfs/bin/busybox")),
        "the busybox fixture rootfs (target berth_fixture_rootfs)");
    BERTH_REQUIRE(PathExists("/usr/bin/docker-registry") && PathExists("/usr/bin/umoci") &&
                      PathExists("/usr/bin/skopeo"),
                  "docker-registry, umoci and skopeo (run .ci/setup)");
    if (suite == nullptr) {
      suite = new Suite();
      init_ = suite->Init();
    }
    ASSERT_TRUE(init_.ok()) << init_.error().str();
  }

  // Pulls `ref` through both; both must succeed with the same image_ref.
  void PullBoth(const std::string& ref) {
    v1::PullImageRequest req;
    req.mutable_image()->set_image(ref);
    v1::PullImageResponse theirs, mine;
    grpc::Status t = suite->ctrd->PullImage(Ctx().get(), req, &theirs);
    ASSERT_TRUE(t.ok()) << "containerd: " << t.error_message();
    grpc::Status m = suite->ours->PullImage(Ctx().get(), req, &mine);
    ASSERT_TRUE(m.ok()) << "berth: " << m.error_message();
    EXPECT_EQ(mine.image_ref(), theirs.image_ref());
  }
  static void Status(v1::ImageService::Stub* stub, const std::string& image, bool verbose,
                     v1::ImageStatusResponse* out) {
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(image);
    req.set_verbose(verbose);
    grpc::Status s = stub->ImageStatus(Ctx().get(), req, out);
    ASSERT_TRUE(s.ok()) << image << ": " << s.error_message();
  }
  static void ExpectSameImage(const v1::Image& mine, const v1::Image& theirs) {
    EXPECT_EQ(mine.id(), theirs.id());
    EXPECT_EQ(std::vector<std::string>(mine.repo_tags().begin(), mine.repo_tags().end()),
              std::vector<std::string>(theirs.repo_tags().begin(), theirs.repo_tags().end()));
    EXPECT_EQ(std::vector<std::string>(mine.repo_digests().begin(), mine.repo_digests().end()),
              std::vector<std::string>(theirs.repo_digests().begin(), theirs.repo_digests().end()));
    EXPECT_EQ(mine.size(), theirs.size());
    EXPECT_EQ(mine.has_uid(), theirs.has_uid());
    EXPECT_EQ(mine.uid().value(), theirs.uid().value());
    EXPECT_EQ(mine.username(), theirs.username());
    EXPECT_EQ(mine.pinned(), theirs.pinned());
  }

  static inline berth::Status init_ = Ok();
};

TEST_F(CriImagesVsContainerdTest, PulledImagesAreReportedAlike) {
  for (const char* repo : {"demo/app:v1", "demo/named:v1", "demo/numeric:v1"}) {
    SCOPED_TRACE(repo);
    PullBoth(suite->Ref(repo));
    v1::ImageStatusResponse mine, theirs;
    Status(suite->ours.get(), suite->Ref(repo), true, &mine);
    Status(suite->ctrd.get(), suite->Ref(repo), true, &theirs);
    ASSERT_TRUE(mine.has_image() && theirs.has_image());
    ExpectSameImage(mine.image(), theirs.image());

    auto m = json::Parse(mine.info().at("info"), "berth info");
    auto t = json::Parse(theirs.info().at("info"), "containerd info");
    ASSERT_TRUE(m.ok() && t.ok());
    EXPECT_EQ(m->as_object().at("chainID"), t->as_object().at("chainID"));
    const auto& ms = m->as_object().at("imageSpec").as_object();
    const auto& ts = t->as_object().at("imageSpec").as_object();
    for (const char* key :
         {"architecture", "os", "config", "rootfs", "created", "history", "author", "variant"})
      EXPECT_EQ(ms.if_contains(key) ? *ms.if_contains(key) : json::bj::value(),
                ts.if_contains(key) ? *ts.if_contains(key) : json::bj::value())
          << key << "\nberth:      " << json::bj::serialize(ms)
          << "\ncontainerd: " << json::bj::serialize(ts);
  }
  v1::ListImagesResponse mine, theirs;
  ASSERT_TRUE(suite->ours->ListImages(Ctx().get(), v1::ListImagesRequest(), &mine).ok());
  ASSERT_TRUE(suite->ctrd->ListImages(Ctx().get(), v1::ListImagesRequest(), &theirs).ok());
  ASSERT_EQ(mine.images_size(), theirs.images_size());
  for (const v1::Image& t : theirs.images()) {
    for (const v1::Image& m : mine.images()) {
      if (m.id() == t.id()) ExpectSameImage(m, t);
    }
  }
}

TEST_F(CriImagesVsContainerdTest, AbsentAndSecondTag) {
  for (v1::ImageService::Stub* stub : {suite->ours.get(), suite->ctrd.get()}) {
    v1::ImageStatusResponse absent;
    Status(stub, suite->Ref("demo/app:never"), false, &absent);
    EXPECT_FALSE(absent.has_image());
    EXPECT_TRUE(absent.info().empty());
  }
  PullBoth(suite->Ref("demo/app:v1"));
  PullBoth(suite->Ref("demo/app:v2"));
  v1::ImageStatusResponse mine, theirs;
  Status(suite->ours.get(), suite->Ref("demo/app:v1"), false, &mine);
  Status(suite->ctrd.get(), suite->Ref("demo/app:v1"), false, &theirs);
  ASSERT_TRUE(mine.has_image() && theirs.has_image());
  ExpectSameImage(mine.image(), theirs.image());
  EXPECT_EQ(mine.image().repo_tags_size(), 2);
}

TEST_F(CriImagesVsContainerdTest, ErrorCodes) {
  struct Case {
    std::string image;
    grpc::StatusCode containerd, berth;
  };
  // An invalid reference: containerd answers UNKNOWN (an unwrapped parse
  // error); berth says INVALID_ARGUMENT. Both name the reference.
  const Case cases[] = {
      {"Busybox:latest", grpc::StatusCode::UNKNOWN, grpc::StatusCode::INVALID_ARGUMENT},
      {suite->Ref("demo/app:missing"), grpc::StatusCode::NOT_FOUND, grpc::StatusCode::NOT_FOUND},
  };
  for (const Case& c : cases) {
    v1::PullImageRequest req;
    req.mutable_image()->set_image(c.image);
    v1::PullImageResponse resp;
    grpc::Status t = suite->ctrd->PullImage(Ctx().get(), req, &resp);
    grpc::Status m = suite->ours->PullImage(Ctx().get(), req, &resp);
    EXPECT_EQ(t.error_code(), c.containerd) << t.error_message();
    EXPECT_EQ(m.error_code(), c.berth) << m.error_message();
    EXPECT_NE(t.error_message().find(c.image), std::string::npos) << t.error_message();
    EXPECT_NE(m.error_message().find(c.image), std::string::npos) << m.error_message();
  }
}

// Runs last (gtest keeps file order): removal of one of two tags is where
// berth deliberately differs (README.md).
TEST_F(CriImagesVsContainerdTest, RemovingOneOfTwoTags) {
  PullBoth(suite->Ref("demo/app:v1"));
  PullBoth(suite->Ref("demo/app:v2"));
  v1::RemoveImageRequest req;
  req.mutable_image()->set_image(suite->Ref("demo/app:v1"));
  v1::RemoveImageResponse resp;
  ASSERT_TRUE(suite->ctrd->RemoveImage(Ctx().get(), req, &resp).ok());
  ASSERT_TRUE(suite->ours->RemoveImage(Ctx().get(), req, &resp).ok());
  v1::ImageStatusResponse mine, theirs;
  Status(suite->ours.get(), suite->Ref("demo/app:v2"), false, &mine);
  Status(suite->ctrd.get(), suite->Ref("demo/app:v2"), false, &theirs);
  EXPECT_FALSE(theirs.has_image()) << "containerd removes every tag of the image";
  EXPECT_TRUE(mine.has_image()) << "berth untags only";
  // Idempotent on both.
  EXPECT_TRUE(suite->ctrd->RemoveImage(Ctx().get(), req, &resp).ok());
  EXPECT_TRUE(suite->ours->RemoveImage(Ctx().get(), req, &resp).ok());
}

}  // namespace
}  // namespace berth::integration
