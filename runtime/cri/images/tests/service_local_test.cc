// The ImageService's RPC methods called in-process (null ServerContext) on
// hand-made images: listing, status, removal semantics, garbage collection
// and its gate, ImageFsInfo, pinning, and reference errors. No registry.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/cri/images/image_service.h"
#include "runtime/cri/images/tests/test_images.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;
using testing::AddImage;
using testing::MakeSnapshots;
using testing::Tag;
using testing::TestImage;

class ServiceLocalTest : public ::testing::Test {
 protected:
  void SetUp() override { Open({}); }
  void Open(std::vector<std::string> pinned) {
    service_.reset();
    ImageServiceOptions options;
    options.root = dir_ / "images";
    options.hosts.hosts_dir = "";
    options.pinned_images = std::move(pinned);
    auto service = ImageService::Open(options);
    ASSERT_TRUE(service.ok()) << service.error().str();
    service_ = std::move(service).value();
  }
  img::ImageRoot& root() { return service_->root(); }
  TestImage Add(const std::string& seed, int layers = 1) {
    auto image = AddImage(root(), seed, layers);
    EXPECT_TRUE(image.ok()) << image.error().str();
    EXPECT_TRUE(MakeSnapshots(root(), *image).ok());
    return *image;
  }
  std::vector<v1::Image> List(const std::string& filter = "") {
    v1::ListImagesRequest req;
    if (!filter.empty()) req.mutable_filter()->mutable_image()->set_image(filter);
    v1::ListImagesResponse resp;
    grpc::Status s = service_->ListImages(nullptr, &req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.images().begin(), resp.images().end()};
  }
  grpc::Status Status(const std::string& image, v1::ImageStatusResponse* resp,
                      bool verbose = false) {
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(image);
    req.set_verbose(verbose);
    return service_->ImageStatus(nullptr, &req, resp);
  }
  grpc::Status Remove(const std::string& image) {
    v1::RemoveImageRequest req;
    req.mutable_image()->set_image(image);
    v1::RemoveImageResponse resp;
    return service_->RemoveImage(nullptr, &req, &resp);
  }
  bool HasStatus(const std::string& image) {
    v1::ImageStatusResponse resp;
    EXPECT_TRUE(Status(image, &resp).ok());
    return resp.has_image();
  }
  bool SnapshotsExist(const TestImage& image) {
    for (const img::Digest& id : img::ChainIds(image.diff_ids)) {
      if (!PathExists(root().snapshots().Dir(id))) return false;
    }
    return true;
  }

  berth::testing::TempDir dir_{"berth-cri-images-local"};
  std::unique_ptr<ImageService> service_;
};

TEST_F(ServiceLocalTest, ListAndStatus) {
  TestImage a = Add("a");
  TestImage b = Add("b");
  ASSERT_TRUE(Tag(root(), "docker.io/library/busybox:latest", a.target).ok());
  ASSERT_TRUE(Tag(root(), "docker.io/library/busybox:stable", a.target).ok());
  ASSERT_TRUE(Tag(root(), "localhost:5000/b:v1", b.target).ok());
  EXPECT_EQ(List().size(), 2u);
  std::vector<v1::Image> one = List("busybox:stable");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].id(), a.id());
  EXPECT_EQ(one[0].repo_tags_size(), 2);
  EXPECT_EQ(List(b.id()).size(), 1u);
  EXPECT_EQ(List("nothing:here").size(), 0u);
  EXPECT_EQ(List("Not A Reference").size(), 0u);

  v1::ImageStatusResponse present;
  ASSERT_TRUE(Status("localhost:5000/b:v1", &present, /*verbose=*/true).ok());
  ASSERT_TRUE(present.has_image());
  EXPECT_EQ(present.image().id(), b.id());
  EXPECT_EQ(present.image().size(),
            static_cast<uint64_t>(b.manifest.size + b.config.size + b.layers[0].size));
  EXPECT_FALSE(present.image().pinned());
  ASSERT_EQ(present.info().count("info"), 1u);
  EXPECT_NE(present.info().at("info").find("\"chainID\":\"sha256:"), std::string::npos);

  v1::ImageStatusResponse quiet;
  ASSERT_TRUE(Status(b.id(), &quiet).ok());
  EXPECT_TRUE(quiet.info().empty());

  v1::ImageStatusResponse absent;
  grpc::Status s = Status("localhost:5000/b:v2", &absent);
  EXPECT_TRUE(s.ok());
  EXPECT_FALSE(absent.has_image());

  v1::ImageStatusResponse invalid;
  s = Status("Busybox:latest", &invalid);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("\"Busybox:latest\""), std::string::npos) << s.error_message();
}

TEST_F(ServiceLocalTest, ListCoreHonoursTheFilter) {
  // StreamImages needs a ServerWriter; it is exercised over gRPC in
  // integration/cri-images. Here: List() feeds it, filter included.
  TestImage a = Add("a");
  ASSERT_TRUE(Tag(root(), "docker.io/library/a:1", a.target).ok());
  auto listed = service_->List("a:1");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(ServiceLocalTest, RemovingOneOfSeveralTagsUntagsOnly) {
  TestImage a = Add("a");
  ASSERT_TRUE(Tag(root(), "docker.io/library/app:1", a.target).ok());
  ASSERT_TRUE(Tag(root(), "docker.io/library/app:2", a.target).ok());
  ASSERT_TRUE(Tag(root(), "docker.io/library/app@" + a.target.digest.str(), a.target).ok());
  ASSERT_TRUE(Remove("app:1").ok());
  EXPECT_FALSE(HasStatus("app:1"));
  EXPECT_TRUE(HasStatus("app:2"));
  EXPECT_TRUE(root().content().Has(a.config.digest));
  EXPECT_TRUE(SnapshotsExist(a));
  // The last tag takes the whole image, its digest record included, and
  // the content and snapshots are collected.
  ASSERT_TRUE(Remove("app:2").ok());
  EXPECT_FALSE(HasStatus(a.id()));
  EXPECT_TRUE(List().empty());
  auto records = root().images().List();
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty());
  EXPECT_FALSE(root().content().Has(a.config.digest));
  EXPECT_FALSE(root().content().Has(a.layers[0].digest));
  EXPECT_FALSE(SnapshotsExist(a));
  // Idempotent.
  EXPECT_TRUE(Remove("app:2").ok());
  EXPECT_TRUE(Remove(a.id()).ok());
}

TEST_F(ServiceLocalTest, RemovingByIdOrDigestRemovesEveryTag) {
  TestImage a = Add("a");
  TestImage b = Add("b");
  ASSERT_TRUE(Tag(root(), "docker.io/library/app:1", a.target).ok());
  ASSERT_TRUE(Tag(root(), "docker.io/library/app:2", a.target).ok());
  ASSERT_TRUE(Tag(root(), "docker.io/library/other:1", b.target).ok());
  ASSERT_TRUE(Tag(root(), "docker.io/library/other:2", b.target).ok());
  ASSERT_TRUE(Remove(a.config.digest.hex().substr(0, 12)).ok());
  EXPECT_FALSE(HasStatus("app:1"));
  EXPECT_FALSE(HasStatus("app:2"));
  ASSERT_TRUE(Remove("docker.io/library/other@" + b.target.digest.str()).ok());
  EXPECT_TRUE(List().empty());
  EXPECT_FALSE(SnapshotsExist(b));
}

TEST_F(ServiceLocalTest, GcKeepsSnapshotsInUseAndWhatOtherImagesShare) {
  TestImage a = Add("a", 2);
  TestImage b = Add("b");
  ASSERT_TRUE(Tag(root(), "docker.io/library/a:1", a.target).ok());
  ASSERT_TRUE(Tag(root(), "docker.io/library/b:1", b.target).ok());
  img::Digest top = img::ChainIds(a.diff_ids).back();
  service_->SetSnapshotsInUse([&] { return std::vector<img::Digest>{top}; });
  ASSERT_TRUE(Remove("a:1").ok());
  EXPECT_FALSE(root().content().Has(a.config.digest));
  EXPECT_TRUE(SnapshotsExist(a)) << "a container's snapshots (and their parents) stay";
  EXPECT_TRUE(root().content().Has(b.config.digest));
  EXPECT_TRUE(SnapshotsExist(b));
  // The container goes: the next collection takes them.
  service_->SetSnapshotsInUse([] { return std::vector<img::Digest>{}; });
  service_->RequestGc();
  EXPECT_FALSE(SnapshotsExist(a));
  EXPECT_TRUE(SnapshotsExist(b));
}

TEST_F(ServiceLocalTest, GcWaitsForPullsAndUnpacksInFlight) {
  TestImage a = Add("a");
  ASSERT_TRUE(Tag(root(), "docker.io/library/a:1", a.target).ok());
  {
    GcGate::Hold hold = service_->HoldGc();  // as a pull in flight does
    // A blob of a pull not yet recorded: a collection now would take it.
    ASSERT_TRUE(root().content().Put(img::Sha256Of("in flight"), "in flight").ok());
    ASSERT_TRUE(Remove("a:1").ok());
    EXPECT_TRUE(root().content().Has(img::Sha256Of("in flight")));
    EXPECT_TRUE(root().content().Has(a.config.digest)) << "collected while held";
  }
  // The last holder ran the deferred collection.
  EXPECT_FALSE(root().content().Has(a.config.digest));
  EXPECT_FALSE(SnapshotsExist(a));
}

TEST_F(ServiceLocalTest, GcWaitsForEveryHolderAndHoldersWaitForGc) {
  GcGate::Hold one = service_->HoldGc();
  GcGate::Hold two = service_->HoldGc();
  TestImage a = Add("a");
  ASSERT_TRUE(Tag(root(), "docker.io/library/a:1", a.target).ok());
  ASSERT_TRUE(Remove("a:1").ok());
  one.Release();
  EXPECT_TRUE(root().content().Has(a.config.digest));
  two.Release();
  EXPECT_FALSE(root().content().Has(a.config.digest));

  // A collection in progress makes Enter wait.
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  GcGate gate([&] {
    while (!release)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  std::thread gc([&] { gate.Request(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread pull([&] {
    GcGate::Hold h = gate.Enter();
    entered = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(entered);
  release = true;
  gc.join();
  pull.join();
  EXPECT_TRUE(entered);
}

TEST_F(ServiceLocalTest, ImageFsInfoMeasuresTheSnapshotsDirectory) {
  TestImage a = Add("a", 3);
  ASSERT_TRUE(Tag(root(), "docker.io/library/a:1", a.target).ok());
  v1::ImageFsInfoRequest req;
  v1::ImageFsInfoResponse resp;
  ASSERT_TRUE(service_->ImageFsInfo(nullptr, &req, &resp).ok());
  ASSERT_EQ(resp.image_filesystems_size(), 1);
  const v1::FilesystemUsage& fs = resp.image_filesystems(0);
  EXPECT_EQ(fs.fs_id().mountpoint(), root().snapshots().root());
  EXPECT_GT(fs.timestamp(), 0);
  EXPECT_GE(fs.used_bytes().value(), 30000u);       // three 10000-byte files
  EXPECT_GE(fs.inodes_used().value(), 1u + 3 * 4);  // root, per snapshot dir/fs/meta/file
  EXPECT_EQ(resp.container_filesystems_size(), 0);
  // A removal invalidates the cached figure.
  ASSERT_TRUE(Remove("a:1").ok());
  v1::ImageFsInfoResponse after;
  ASSERT_TRUE(service_->ImageFsInfo(nullptr, &req, &after).ok());
  EXPECT_LT(after.image_filesystems(0).used_bytes().value(), fs.used_bytes().value());
  EXPECT_LT(after.image_filesystems(0).inodes_used().value(), fs.inodes_used().value());
}

TEST_F(ServiceLocalTest, PinnedImages) {
  Open({"busybox", "sha256:" + std::string(64, 'f')});
  TestImage a = Add("a");
  TestImage b = Add("b");
  ASSERT_TRUE(Tag(root(), "docker.io/library/busybox:latest", a.target).ok());
  ASSERT_TRUE(Tag(root(), "docker.io/library/other:latest", b.target).ok());
  for (const v1::Image& i : List())
    EXPECT_EQ(i.pinned(), i.id() == a.id()) << i.id();
}

TEST_F(ServiceLocalTest, PullErrors) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image("Bad Reference");
  v1::PullImageResponse resp;
  grpc::Status s = service_->PullImage(nullptr, &req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("image reference \"Bad Reference\": ", 0), 0u)
      << s.error_message();
  // Nothing listens on port 1 of loopback.
  req.mutable_image()->set_image("127.0.0.1:1/app:v1");
  s = service_->PullImage(nullptr, &req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_NE(s.error_message().find("pull 127.0.0.1:1/app:v1: "), std::string::npos)
      << s.error_message();
}

TEST_F(ServiceLocalTest, ResolveForContainerNamesAMissingImage) {
  Result<ResolvedImage> r = service_->ResolveForContainer("busybox:1.36");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_NE(r.error().str().find("\"busybox:1.36\""), std::string::npos);
}

}  // namespace
}  // namespace berth::cri
