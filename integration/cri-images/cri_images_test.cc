// The CRI ImageService end to end: berth::cri::ImageService served by a
// real gRPC server on a unix socket, driven by the generated
// runtime.v1.ImageService stub, pulling from Debian's docker-registry on
// 127.0.0.1 (one open, one behind htpasswd) fed with a busybox image built
// locally with umoci and pushed by skopeo. Root (overlay unpack with
// ownership): label priv.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/fixtures/image_layout.h"
#include "runtime/cri/images/image_service.h"
#include "runtime/cri/proto/api.grpc.pb.h"
#include "runtime/image/registry/tests/registry_process.h"

namespace berth::integration {
namespace {

namespace v1 = ::runtime::v1;
using image::registry::testing::PushLayout;
using image::registry::testing::RegistryProcess;

constexpr char kHtpasswd[] = "/usr/bin/htpasswd";

// Registries and images shared by every test (built once: umoci and skopeo
// take seconds); each test has its own image root and server.
struct Env {
  berth::testing::TempDir dir{"berth-cri-images-env"};
  std::string layout;
  std::unique_ptr<RegistryProcess> open, locked;

  Status Init() {
    std::string rootfs = berth::testing::BuiltBinary("integration/fixtures/busybox-rootfs");
    layout = BERTH_TRY(BuildOciLayout(rootfs, dir.path(), {"/bin/sh", "-c", "echo hi"}));
    // Two more configs of the same layer: named and numeric users.
    BERTH_TRY(RunTool({"umoci", "config", "--image", layout + ":latest", "--tag", "named",
                       "--config.user", "nobody"}));
    BERTH_TRY(RunTool({"umoci", "config", "--image", layout + ":latest", "--tag", "numeric",
                       "--config.user", "1000:1000"}));
    BERTH_TRY(MkdirAll(dir / "open"));
    open = BERTH_TRY(RegistryProcess::Start(dir / "open"));
    BERTH_TRY(PushLayout(layout, "latest", open->host() + "/demo/app:v1"));
    BERTH_TRY(PushLayout(layout, "latest", open->host() + "/demo/app:v2"));
    BERTH_TRY(PushLayout(layout, "latest", open->host() + "/demo/twice:v1"));
    BERTH_TRY(PushLayout(layout, "named", open->host() + "/demo/named:v1"));
    BERTH_TRY(PushLayout(layout, "numeric", open->host() + "/demo/numeric:v1"));
    BERTH_TRY(MkdirAll(dir / "locked"));
    auto hash = BERTH_TRY(
        image::registry::testing::RunTool({kHtpasswd, "-Bbn", "berth", "s3cret"}, "htpasswd"));
    BERTH_TRY(WriteFile(dir / "locked/htpasswd", hash.out));
    locked = BERTH_TRY(RegistryProcess::Start(dir / "locked", dir / "locked/htpasswd"));
    BERTH_TRY(
        PushLayout(layout, "latest", locked->host() + "/private/app:v1", false, "berth:s3cret"));
    return Ok();
  }
};

Env* env = nullptr;

class CriImagesTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    delete env;
    env = nullptr;
  }

  void SetUp() override {
    BERTH_REQUIRE(berth::testing::IsRoot(), "root");
    BERTH_REQUIRE(
        PathExists(berth::testing::BuiltBinary("integration/fixtures/busybox-rootfs/bin/busybox")),
        "the busybox fixture rootfs (target berth_fixture_rootfs)");
    BERTH_REQUIRE(PathExists("/usr/bin/docker-registry") && PathExists("/usr/bin/umoci") &&
                      PathExists("/usr/bin/skopeo") && PathExists(kHtpasswd),
                  "docker-registry, umoci, skopeo and htpasswd (run .ci/setup)");
    if (env == nullptr) {
      env = new Env();
      berth::Status s = env->Init();
      ASSERT_TRUE(s.ok()) << s.error().str();
    }
    ASSERT_TRUE(env->open && env->locked) << "the shared registries failed to start earlier";
    cri::ImageServiceOptions options;
    options.root = dir_ / "images";
    options.hosts.hosts_dir = "";  // loopback registries: HTTPS, then plain HTTP
    options.fs_usage_ttl = std::chrono::milliseconds(0);
    auto service = cri::ImageService::Open(options);
    ASSERT_TRUE(service.ok()) << service.error().str();
    service_ = std::move(service).value();
    std::string address = "unix:" + (dir_ / "cri.sock");
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr) << "gRPC server on " << address;
    stub_ =
        v1::ImageService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  std::string Open(const std::string& repo_tag) { return env->open->host() + "/" + repo_tag; }

  static void Deadline(grpc::ClientContext* ctx) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  }
  grpc::Status Pull(const std::string& image, std::string* image_ref,
                    const v1::AuthConfig* auth = nullptr) {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    v1::PullImageRequest req;
    req.mutable_image()->set_image(image);
    if (auth) *req.mutable_auth() = *auth;
    v1::PullImageResponse resp;
    grpc::Status s = stub_->PullImage(&ctx, req, &resp);
    if (image_ref) *image_ref = resp.image_ref();
    return s;
  }
  std::string MustPull(const std::string& image) {
    std::string ref;
    grpc::Status s = Pull(image, &ref);
    EXPECT_TRUE(s.ok()) << image << ": " << s.error_code() << " " << s.error_message();
    return ref;
  }
  std::vector<v1::Image> List(const std::string& filter = "") {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    v1::ListImagesRequest req;
    if (!filter.empty()) req.mutable_filter()->mutable_image()->set_image(filter);
    v1::ListImagesResponse resp;
    grpc::Status s = stub_->ListImages(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.images().begin(), resp.images().end()};
  }
  v1::ImageStatusResponse Status(const std::string& image, bool verbose = false) {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(image);
    req.set_verbose(verbose);
    v1::ImageStatusResponse resp;
    grpc::Status s = stub_->ImageStatus(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << image << ": " << s.error_message();
    return resp;
  }
  grpc::Status Remove(const std::string& image) {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    v1::RemoveImageRequest req;
    req.mutable_image()->set_image(image);
    v1::RemoveImageResponse resp;
    return stub_->RemoveImage(&ctx, req, &resp);
  }
  v1::FilesystemUsage FsInfo() {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    v1::ImageFsInfoResponse resp;
    grpc::Status s = stub_->ImageFsInfo(&ctx, v1::ImageFsInfoRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.image_filesystems_size(), 1);
    return resp.image_filesystems_size() ? resp.image_filesystems(0) : v1::FilesystemUsage();
  }
  // The registry's manifest for `ref` (skopeo, independent of berth).
  json::bj::value RemoteManifest(const std::string& ref, std::string* raw) {
    auto r = image::registry::testing::RunTool(
        {"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + ref}, "skopeo inspect");
    EXPECT_TRUE(r.ok()) << r.error().str();
    if (!r.ok()) return {};
    *raw = r->out;
    auto parsed = json::Parse(r->out, "manifest");
    EXPECT_TRUE(parsed.ok());
    return parsed.ok() ? *parsed : json::bj::value();
  }
  // Successful blob GETs in the open registry's access log.
  int BlobDownloads(const std::string& digest) {
    int n = 0;
    for (const std::string& line : SplitNonEmpty(env->open->Log(), '\n')) {
      if (line.find("\"GET /v2/") != std::string::npos &&
          line.find("/blobs/" + digest + " HTTP/1.1\" 200 ") != std::string::npos) {
        ++n;
      }
    }
    return n;
  }

  berth::testing::TempDir dir_{"berth-cri-images"};
  std::unique_ptr<cri::ImageService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ImageService::Stub> stub_;
};

TEST_F(CriImagesTest, PullByTagThenListStatusAndIds) {
  std::string ref = MustPull(Open("demo/app:v1"));
  ASSERT_EQ(ref.rfind("sha256:", 0), 0u) << ref;

  std::string raw;
  json::bj::value manifest = RemoteManifest(Open("demo/app:v1"), &raw);
  ASSERT_TRUE(manifest.is_object());
  const auto& m = manifest.as_object();
  std::string config_digest(m.at("config").as_object().at("digest").as_string());
  EXPECT_EQ(ref, config_digest) << "image_ref is the image id: the config digest";
  uint64_t size = raw.size() + m.at("config").as_object().at("size").to_number<uint64_t>();
  for (const auto& l : m.at("layers").as_array())
    size += l.as_object().at("size").to_number<uint64_t>();
  std::string manifest_digest = image::Sha256Of(raw).str();

  std::vector<v1::Image> all = List();
  ASSERT_EQ(all.size(), 1u);
  const v1::Image& image = all[0];
  EXPECT_EQ(image.id(), ref);
  EXPECT_EQ(std::vector<std::string>(image.repo_tags().begin(), image.repo_tags().end()),
            std::vector<std::string>{Open("demo/app:v1")});
  EXPECT_EQ(std::vector<std::string>(image.repo_digests().begin(), image.repo_digests().end()),
            std::vector<std::string>{Open("demo/app@" + manifest_digest)});
  EXPECT_EQ(image.size(), size) << "compressed: manifest + config + layers, as containerd";
  EXPECT_FALSE(image.has_uid());
  EXPECT_EQ(image.username(), "");
  EXPECT_FALSE(image.pinned());

  // Every way of naming it.
  for (const std::string& name :
       {Open("demo/app:v1"), Open("demo/app@" + manifest_digest), ref, ref.substr(7, 12)}) {
    v1::ImageStatusResponse st = Status(name);
    ASSERT_TRUE(st.has_image()) << name;
    EXPECT_EQ(st.image().id(), ref) << name;
    EXPECT_TRUE(st.info().empty());
  }
  v1::ImageStatusResponse verbose = Status(Open("demo/app:v1"), true);
  ASSERT_EQ(verbose.info().count("info"), 1u);
  auto info = json::Parse(verbose.info().at("info"), "info");
  ASSERT_TRUE(info.ok()) << info.error().str();
  EXPECT_EQ(info->as_object().at("chainID").as_string().subview().substr(0, 7), "sha256:");
  const auto& spec = info->as_object().at("imageSpec").as_object();
  EXPECT_EQ(spec.at("config").as_object().at("Cmd").as_array().size(), 3u);
  EXPECT_EQ(spec.at("rootfs").as_object().at("diff_ids").as_array().size(), 1u);

  v1::ImageStatusResponse absent = Status(Open("demo/app:v3"));
  EXPECT_FALSE(absent.has_image());
  EXPECT_TRUE(absent.info().empty());

  // By digest: the same image, no new name kinds.
  EXPECT_EQ(MustPull(Open("demo/app@" + manifest_digest)), ref);
  EXPECT_EQ(List().size(), 1u);
  EXPECT_EQ(List()[0].repo_digests_size(), 1);

  // The filter narrows the list to the image it names.
  EXPECT_EQ(List(Open("demo/app:v1")).size(), 1u);
  EXPECT_EQ(List(Open("demo/app:v9")).size(), 0u);
}

TEST_F(CriImagesTest, RemoveByTagThenById) {
  std::string ref = MustPull(Open("demo/app:v1"));
  ASSERT_EQ(MustPull(Open("demo/app:v2")), ref);
  ASSERT_EQ(List().size(), 1u);
  EXPECT_EQ(List()[0].repo_tags_size(), 2);
  uint64_t used = FsInfo().used_bytes().value();

  // One of two tags: untagged only.
  ASSERT_TRUE(Remove(Open("demo/app:v1")).ok());
  EXPECT_FALSE(Status(Open("demo/app:v1")).has_image());
  v1::ImageStatusResponse v2 = Status(Open("demo/app:v2"));
  ASSERT_TRUE(v2.has_image());
  EXPECT_EQ(v2.image().repo_tags_size(), 1);
  EXPECT_EQ(FsInfo().used_bytes().value(), used) << "the image's snapshots stay";

  // By id: the whole image, and its snapshots and blobs are collected.
  ASSERT_TRUE(Remove(ref).ok());
  EXPECT_TRUE(List().empty());
  EXPECT_FALSE(Status(ref).has_image());
  EXPECT_LT(FsInfo().used_bytes().value(), used / 4);
  auto blobs = ListDir(dir_ / "images/content/blobs/sha256");
  ASSERT_TRUE(blobs.ok());
  EXPECT_TRUE(blobs->empty());
  // Idempotent.
  EXPECT_TRUE(Remove(ref).ok());
  EXPECT_TRUE(Remove(Open("demo/app:v2")).ok());
}

TEST_F(CriImagesTest, PullWithCredentials) {
  std::string ref = env->locked->host() + "/private/app:v1";
  v1::AuthConfig good;
  good.set_username("berth");
  good.set_password("s3cret");
  std::string id;
  grpc::Status s = Pull(ref, &id, &good);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(id.rfind("sha256:", 0), 0u);

  // The "auth" form (base64 user:password), for the right server.
  v1::AuthConfig encoded;
  encoded.set_auth("YmVydGg6czNjcmV0");
  encoded.set_server_address("http://" + env->locked->host());
  ASSERT_TRUE(Remove(ref).ok());
  s = Pull(ref, &id, &encoded);
  EXPECT_TRUE(s.ok()) << s.error_message();

  v1::AuthConfig wrong;
  wrong.set_username("berth");
  wrong.set_password("guess");
  s = Pull(ref, nullptr, &wrong);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_NE(s.error_message().find("pull " + ref + ": 401 Unauthorized from http://" +
                                   env->locked->host() + "/v2/private/app/manifests/v1"),
            std::string::npos)
      << s.error_message();

  s = Pull(ref, nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_NE(s.error_message().find("authentication required"), std::string::npos)
      << s.error_message();

  // Credentials for another server are not sent.
  v1::AuthConfig elsewhere = good;
  elsewhere.set_server_address("https://registry.example.com");
  s = Pull(ref, nullptr, &elsewhere);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

TEST_F(CriImagesTest, ImageUserBecomesUidOrUsername) {
  MustPull(Open("demo/named:v1"));
  MustPull(Open("demo/numeric:v1"));
  v1::ImageStatusResponse named = Status(Open("demo/named:v1"));
  ASSERT_TRUE(named.has_image());
  EXPECT_FALSE(named.image().has_uid());
  EXPECT_EQ(named.image().username(), "nobody");
  v1::ImageStatusResponse numeric = Status(Open("demo/numeric:v1"));
  ASSERT_TRUE(numeric.has_image());
  ASSERT_TRUE(numeric.image().has_uid());
  EXPECT_EQ(numeric.image().uid().value(), 1000);
  EXPECT_EQ(numeric.image().username(), "");
  EXPECT_NE(named.image().id(), numeric.image().id());
}

TEST_F(CriImagesTest, ImageFsInfoCountsTheSnapshots) {
  v1::FilesystemUsage empty = FsInfo();
  EXPECT_EQ(empty.fs_id().mountpoint(), dir_ / "images/snapshots");
  MustPull(Open("demo/app:v1"));
  v1::FilesystemUsage fs = FsInfo();
  EXPECT_EQ(fs.fs_id().mountpoint(), dir_ / "images/snapshots");
  EXPECT_GT(fs.timestamp(), empty.timestamp() - 1);
  // busybox-static is about 1 MiB, plus one symlink per applet.
  EXPECT_GT(fs.used_bytes().value(), 1'000'000u);
  EXPECT_GT(fs.inodes_used().value(), 100u);
  EXPECT_GT(fs.used_bytes().value(), empty.used_bytes().value());
}

TEST_F(CriImagesTest, InvalidReference) {
  for (const std::string& bad :
       {std::string("Busybox:latest"), Open("demo/app:bad tag"), std::string("")}) {
    grpc::Status s = Pull(bad, nullptr);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_NE(s.error_message().find("image reference \"" + bad + "\""), std::string::npos)
        << s.error_message();
  }
  grpc::ClientContext ctx;
  v1::ImageStatusRequest req;
  req.mutable_image()->set_image("Busybox:latest");
  v1::ImageStatusResponse resp;
  grpc::Status s = stub_->ImageStatus(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  // A tag the registry lacks.
  s = Pull(Open("demo/app:missing"), nullptr);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
}

TEST_F(CriImagesTest, ConcurrentPullsOfOneImageFetchEachBlobOnce) {
  std::string raw;
  json::bj::value manifest = RemoteManifest(Open("demo/twice:v1"), &raw);
  ASSERT_TRUE(manifest.is_object());
  std::vector<std::string> blobs{
      std::string(manifest.as_object().at("config").as_object().at("digest").as_string())};
  for (const auto& l : manifest.as_object().at("layers").as_array())
    blobs.emplace_back(l.as_object().at("digest").as_string());
  std::vector<int> before;
  for (const std::string& b : blobs)
    before.push_back(BlobDownloads(b));

  constexpr int kPulls = 4;
  std::vector<grpc::Status> results(kPulls);
  std::vector<std::string> ids(kPulls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPulls; ++i)
    threads.emplace_back([&, i] { results[i] = Pull(Open("demo/twice:v1"), &ids[i]); });
  for (std::thread& t : threads)
    t.join();
  for (int i = 0; i < kPulls; ++i) {
    EXPECT_TRUE(results[i].ok()) << results[i].error_message();
    EXPECT_EQ(ids[i], ids[0]);
  }
  for (size_t i = 0; i < blobs.size(); ++i)
    EXPECT_EQ(BlobDownloads(blobs[i]) - before[i], 1) << blobs[i];
  ASSERT_EQ(List().size(), 1u);
  auto snapshots = ListDir(dir_ / "images/snapshots");
  ASSERT_TRUE(snapshots.ok());
  EXPECT_EQ(snapshots->size(), 1u) << Join(*snapshots, " ");
}

// Removals (and the GC they run) while other pulls are in flight: the
// pulls' blobs and snapshots, not yet referenced by a record, survive.
TEST_F(CriImagesTest, PullsSurviveConcurrentRemovals) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    std::string pulled;
    grpc::Status pull_status;
    std::thread puller([&] { pull_status = Pull(Open("demo/twice:v1"), &pulled); });
    for (int i = 0; i < 3; ++i) {
      MustPull(Open("demo/named:v1"));
      EXPECT_TRUE(Remove(Open("demo/named:v1")).ok());
    }
    puller.join();
    ASSERT_TRUE(pull_status.ok()) << pull_status.error_message();
    Result<cri::ResolvedImage> r = service_->ResolveForContainer(pulled);
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_TRUE(PathExists(r->lower_dirs[0] + "/bin/busybox"));
    ASSERT_TRUE(Remove(pulled).ok());
    EXPECT_TRUE(List().empty());
  }
}

TEST_F(CriImagesTest, StreamImagesSendsOneImagePerMessage) {
  MustPull(Open("demo/app:v1"));
  MustPull(Open("demo/named:v1"));
  grpc::ClientContext ctx;
  Deadline(&ctx);
  auto reader = stub_->StreamImages(&ctx, v1::StreamImagesRequest());
  v1::StreamImagesResponse message;
  int messages = 0, images = 0;
  while (reader->Read(&message)) {
    ++messages;
    images += message.images_size();
  }
  grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(messages, 2);
  EXPECT_EQ(images, 2);
}

TEST_F(CriImagesTest, ResolveForContainerGivesTheRootfsLayers) {
  std::string id = MustPull(Open("demo/app:v1"));
  // CreateContainer passes what PullImage returned; a name works too.
  for (const std::string& name : {id, Open("demo/app:v1")}) {
    cri::GcGate::Hold hold = service_->HoldGc();
    Result<cri::ResolvedImage> r = service_->ResolveForContainer(name);
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_EQ(r->id, id);
    EXPECT_EQ(r->config.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
    ASSERT_EQ(r->lower_dirs.size(), 1u);
    EXPECT_TRUE(PathExists(r->lower_dirs[0] + "/bin/busybox"));
    EXPECT_EQ(r->lower_dirs[0], service_->root().snapshots().Dir(r->chain_id));
    EXPECT_EQ(r->repo_tags, std::vector<std::string>{Open("demo/app:v1")});
  }
  // Snapshots missing (e.g. removed by hand): unpacked again on demand.
  auto snapshots = service_->root().snapshots().List();
  ASSERT_TRUE(snapshots.ok());
  ASSERT_EQ(snapshots->size(), 1u);
  ASSERT_TRUE(service_->root().snapshots().Remove(snapshots->front().chain_id).ok());
  Result<cri::ResolvedImage> again = service_->ResolveForContainer(id);
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_TRUE(PathExists(again->lower_dirs[0] + "/bin/busybox"));
}

}  // namespace
}  // namespace berth::integration
