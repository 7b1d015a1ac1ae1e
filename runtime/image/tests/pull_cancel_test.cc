// A pull whose caller gives up (PullOptions::cancelled, e.g. a CRI client
// that cancelled PullImage) stops mid-layer and leaves the store as it was
// for that layer: no partial blob, no ingest data, no image record; the
// same pull then works. Against an in-memory registry on 127.0.0.1.

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/image/pull.h"
#include "runtime/image/registry/tests/test_server.h"

namespace berth::image {
namespace {

using registry::testing::TestRequest;
using registry::testing::TestResponse;
using registry::testing::TestServer;

// One image "app:v1": a manifest, a config and one layer of `layer_size`
// bytes (not a tarball: these pulls do not unpack).
class OneImageRegistry {
 public:
  explicit OneImageRegistry(size_t layer_size) {
    std::string layer(layer_size, '\0');
    for (size_t i = 0; i < layer.size(); ++i)
      layer[i] = static_cast<char>((i * 131) ^ (i >> 9));
    layer_ = Add(std::move(layer), std::string(media::kOciLayerGzip));
    config_ =
        Add(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})",
            std::string(media::kOciConfig));
    manifest_ =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
        DescriptorToJson(config_) + R"(,"layers":[)" + DescriptorToJson(layer_) + "]}";
  }
  const Descriptor& layer() const { return layer_; }

  TestResponse Handle(const TestRequest& r) {
    if (r.path == "/v2/app/manifests/v1" || r.path.starts_with("/v2/app/manifests/sha256:")) {
      return TestResponse::Status(200, manifest_)
          .Header("Content-Type", std::string(media::kOciManifest))
          .Header("Docker-Content-Digest", Sha256Of(manifest_).str());
    }
    std::string prefix = "/v2/app/blobs/";
    if (r.path.starts_with(prefix)) {
      auto it = blobs_.find(r.path.substr(prefix.size()));
      if (it != blobs_.end()) {
        TestResponse resp = TestResponse::Status(200);
        // In pieces, as a registry streams a big blob.
        for (size_t at = 0; at < it->second.size(); at += 16 << 10)
          resp.chunks.push_back(it->second.substr(at, 16 << 10));
        return resp;
      }
    }
    return TestResponse::Status(404);
  }

 private:
  Descriptor Add(std::string body, std::string media_type) {
    Descriptor d;
    d.media_type = std::move(media_type);
    d.digest = Sha256Of(body);
    d.size = static_cast<int64_t>(body.size());
    blobs_[d.digest.str()] = std::move(body);
    return d;
  }

  Descriptor layer_, config_;
  std::string manifest_;
  std::map<std::string, std::string> blobs_;
};

// How far the layer download got, so that a test can cancel mid-layer.
class LayerBytes : public PullProgress {
 public:
  void Layer(const Descriptor& /*layer*/, uint64_t done, bool /*finished*/) override {
    this->done = done;
  }
  std::atomic<uint64_t> done{0};
};

class PullCancelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestServer::Start([this](const TestRequest& r) { return registry_.Handle(r); });
    ASSERT_TRUE(server.ok()) << server.error().str();
    server_ = std::move(*server);
    auto root = ImageRoot::Open(dir_ / "images");
    ASSERT_TRUE(root.ok()) << root.error().str();
    root_.emplace(std::move(*root));
    auto ref = Reference::Parse(server_->host() + "/app:v1");
    ASSERT_TRUE(ref.ok()) << ref.error().str();
    ref_ = *ref;
  }
  PullOptions Options() {
    PullOptions options;
    options.client.hosts.plain_http = true;
    options.unpack = false;
    return options;
  }
  // Files in the ingest directory other than the writers' lock files.
  std::vector<std::string> IngestData() {
    std::vector<std::string> out;
    for (const std::string& name :
         ListDir(root_->content().root() + "/ingest").value_or(std::vector<std::string>{})) {
      if (!name.ends_with(".lock")) out.push_back(name);
    }
    return out;
  }

  testing::TempDir dir_;
  OneImageRegistry registry_{size_t{4} << 20};
  std::unique_ptr<TestServer> server_;
  std::optional<ImageRoot> root_;
  Reference ref_;
};

TEST_F(PullCancelTest, CancelledMidLayerLeavesNothingHalfWritten) {
  LayerBytes progress;
  PullOptions options = Options();
  options.progress = &progress;
  options.cancelled = [&] { return progress.done > 0; };
  Result<ImageRecord> cancelled = Pull(*root_, ref_, options);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code(), Errc::kCancelled) << cancelled.error().str();
  // Stopped at the next piece of data, far from the end of the layer.
  EXPECT_LT(progress.done, static_cast<uint64_t>(registry_.layer().size) / 4);
  EXPECT_FALSE(root_->content().Has(registry_.layer().digest));
  EXPECT_TRUE(IngestData().empty()) << ::testing::PrintToString(IngestData());
  Result<std::vector<ImageRecord>> records = root_->images().List();
  ASSERT_TRUE(records.ok()) << records.error().str();
  EXPECT_TRUE(records->empty());

  // Nothing in the way of the same pull afterwards.
  Result<ImageRecord> pulled = Pull(*root_, ref_, Options());
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();
  EXPECT_TRUE(root_->content().Has(registry_.layer().digest));
  EXPECT_EQ(root_->images().List().value_or(std::vector<ImageRecord>{}).size(), 1u);
}

TEST_F(PullCancelTest, CancelledBeforeTheLayersFetchesNoLayer) {
  PullOptions options = Options();
  options.cancelled = [] { return true; };
  Result<ImageRecord> cancelled = Pull(*root_, ref_, options);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code(), Errc::kCancelled);
  for (const TestRequest& r : server_->requests())
    EXPECT_EQ(r.path.find(registry_.layer().digest.str()), std::string::npos) << r.path;
  EXPECT_TRUE(root_->images().List().value_or(std::vector<ImageRecord>{{}}).empty());
}

}  // namespace
}  // namespace berth::image
