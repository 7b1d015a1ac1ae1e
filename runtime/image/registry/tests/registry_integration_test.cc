// The registry client against the real distribution registry
// (/usr/bin/docker-registry on 127.0.0.1), with images pushed by skopeo from
// OCI layouts the test writes. Every registry is a child of the test,
// killed by pid at the end (ChildGuard), and every address is loopback:
// hosts.toml files here point `server` at a dead loopback port, so no
// request can leave the machine even if a mirror failed.

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "runtime/image/registry/client.h"
#include "runtime/image/registry/platform_select.h"
#include "runtime/image/registry/tests/registry_process.h"
#include "runtime/image/registry/tests/test_server.h"

namespace berth::image::registry {
namespace {

using berth::testing::TempDir;
using testing::kRegistryBinary;
using testing::kSkopeo;
using testing::PushLayout;
using testing::RegistryProcess;
using testing::RunTool;

constexpr char kHtpasswd[] = "/usr/bin/htpasswd";

bool HaveTools() {
  return ::access(kRegistryBinary, X_OK) == 0 && ::access(kSkopeo, X_OK) == 0 &&
         ::access(kHtpasswd, X_OK) == 0 && ::access("/usr/bin/tar", X_OK) == 0;
}

#define REQUIRE_TOOLS()                                                 \
  BERTH_REQUIRE(HaveTools(),                                            \
                "docker-registry, skopeo, htpasswd and tar are needed " \
                "(apt-get install docker-registry skopeo apache2-utils)")

// An OCI image layout written by hand: blobs, manifests, indexes, index.json.
class OciLayout {
 public:
  explicit OciLayout(std::string dir) : dir_(std::move(dir)) {}

  Status Init() {
    BERTH_TRY(MkdirAll(dir_ + "/blobs/sha256"));
    return WriteFile(dir_ + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  }
  const std::string& dir() const { return dir_; }

  Result<Descriptor> Put(const std::string& data, std::string_view media_type) {
    Descriptor d;
    d.media_type = std::string(media_type);
    d.digest = Sha256Of(data);
    d.size = static_cast<int64_t>(data.size());
    BERTH_TRY(WriteFile(dir_ + "/blobs/sha256/" + d.digest.hex(), data));
    blobs_[d.digest.str()] = data;
    return d;
  }

  // A one-layer image whose layer holds /etc/arch with `marker`.
  Result<Descriptor> AddImage(const std::string& arch, const std::string& marker) {
    std::string root = dir_ + "/../rootfs-" + arch;
    BERTH_TRY(MkdirAll(root + "/etc"));
    BERTH_TRY(WriteFile(root + "/etc/arch", marker + "\n"));
    std::string tar = dir_ + "/../layer-" + arch + ".tar";
    BERTH_TRY(RunTool({"/usr/bin/tar", "--sort=name", "--owner=0", "--group=0", "--mtime=@0", "-C",
                       root, "-cf", tar, "etc"},
                      "tar"));
    std::string plain = BERTH_TRY(ReadFile(tar));
    BERTH_TRY(RunTool({"/usr/bin/gzip", "-n", "-f", tar}, "gzip"));
    std::string gz = BERTH_TRY(ReadFile(tar + ".gz"));
    Descriptor layer = BERTH_TRY(Put(gz, media::kOciLayerGzip));
    std::string config =
        R"({"architecture":")" + arch +
        R"(","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[")" +
        Sha256Of(plain).str() + R"("]}})";
    Descriptor cfg = BERTH_TRY(Put(config, media::kOciConfig));
    std::string manifest = R"({"schemaVersion":2,"mediaType":")" +
                           std::string(media::kOciManifest) + R"(","config":)" +
                           DescriptorToJson(cfg) + R"(,"layers":[)" + DescriptorToJson(layer) +
                           "]}";
    Descriptor m = BERTH_TRY(Put(manifest, media::kOciManifest));
    m.platform.emplace();
    m.platform->os = "linux";
    m.platform->architecture = arch;
    if (arch == "arm64") m.platform->variant = "v8";
    return m;
  }

  Result<Descriptor> AddIndex(const std::vector<Descriptor>& manifests) {
    std::vector<std::string> items;
    items.reserve(manifests.size());
    for (const Descriptor& d : manifests)
      items.push_back(DescriptorToJson(d));
    std::string index = R"({"schemaVersion":2,"mediaType":")" + std::string(media::kOciIndex) +
                        R"(","manifests":[)" + Join(items, ",") + "]}";
    return Put(index, media::kOciIndex);
  }

  // index.json naming `d` as `tag`.
  Status Tag(const std::string& tag, Descriptor d) {
    d.platform.reset();
    d.annotations["org.opencontainers.image.ref.name"] = tag;
    refs_.push_back(DescriptorToJson(d));
    return WriteFile(dir_ + "/index.json",
                     R"({"schemaVersion":2,"manifests":[)" + Join(refs_, ",") + "]}");
  }

  const std::string& Blob(const Digest& d) { return blobs_[d.str()]; }

 private:
  std::string dir_;
  std::vector<std::string> refs_;
  std::map<std::string, std::string> blobs_;
};

Reference Ref(const std::string& text) {
  Result<Reference> r = Reference::Parse(text);
  EXPECT_TRUE(r.ok()) << r.error().str();
  return *r;
}

ClientOptions Fast() {
  ClientOptions o;
  o.backoff = std::chrono::milliseconds(10);
  return o;
}

struct Pulled {
  Digest manifest;    // the image manifest (chosen from the index, if any)
  std::string layer;  // its layer's content
};

// Resolve, fetch (choosing `platform` from an index), fetch config and
// layer, as a pull does.
Result<Pulled> PullLayer(Client& client, const Reference& ref, const Platform& platform) {
  Descriptor top = BERTH_TRY(client.Resolve(ref));
  std::string doc = BERTH_TRY(client.FetchManifest(ref, top));
  Descriptor manifest_desc = top;
  if (media::IsIndex(top.media_type)) {
    Index index = BERTH_TRY(ParseIndex(doc, "index " + top.digest.str()));
    manifest_desc = BERTH_TRY(SelectManifest(index, platform, "index " + top.digest.str()));
    doc = BERTH_TRY(client.FetchManifest(ref, manifest_desc));
  }
  Manifest m = BERTH_TRY(ParseManifest(doc, "manifest " + manifest_desc.digest.str()));
  StringBlobSink config;
  BERTH_TRY(client.FetchBlob(ref, m.config, config));
  BERTH_TRY(ParseImageConfig(config.data(), "config"));
  StringBlobSink layer;
  BERTH_TRY(client.FetchBlob(ref, m.layers.at(0), layer));
  return Pulled{manifest_desc.digest, layer.data()};
}

class RegistryIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!HaveTools()) return;
    dir_ = new TempDir("berth-registry");
    auto reg = RegistryProcess::Start(dir_->path());
    ASSERT_TRUE(reg.ok()) << reg.error().str();
    registry_ = reg->release();
    layout_ = new OciLayout(*dir_ / "layout");
    ASSERT_TRUE(layout_->Init().ok());
    auto amd64 = layout_->AddImage("amd64", "amd64 image");
    auto arm64 = layout_->AddImage("arm64", "arm64 image");
    ASSERT_TRUE(amd64.ok() && arm64.ok());
    amd64_ = new Descriptor(*amd64);
    arm64_ = new Descriptor(*arm64);
    auto index = layout_->AddIndex({*amd64, *arm64});
    ASSERT_TRUE(index.ok());
    index_ = new Descriptor(*index);
    ASSERT_TRUE(layout_->Tag("single", *amd64).ok());
    ASSERT_TRUE(layout_->Tag("multi", *index).ok());
    Status pushed = PushLayout(layout_->dir(), "single", registry_->host() + "/app:v1");
    ASSERT_TRUE(pushed.ok()) << pushed.error().str();
    pushed = PushLayout(layout_->dir(), "single", registry_->host() + "/pause:3.9");
    ASSERT_TRUE(pushed.ok()) << pushed.error().str();
    pushed = PushLayout(layout_->dir(), "multi", registry_->host() + "/multi:v1", /*all=*/true);
    ASSERT_TRUE(pushed.ok()) << pushed.error().str();
  }
  static void TearDownTestSuite() {
    delete registry_;  // kills docker-registry by pid
    registry_ = nullptr;
    delete layout_;
    delete amd64_;
    delete arm64_;
    delete index_;
    delete dir_;
  }
  void SetUp() override {
    REQUIRE_TOOLS();
    ASSERT_NE(registry_, nullptr) << "registry setup failed";
  }

  static TempDir* dir_;
  static RegistryProcess* registry_;
  static OciLayout* layout_;
  static Descriptor* amd64_;
  static Descriptor* arm64_;
  static Descriptor* index_;
};

TempDir* RegistryIntegrationTest::dir_ = nullptr;
RegistryProcess* RegistryIntegrationTest::registry_ = nullptr;
OciLayout* RegistryIntegrationTest::layout_ = nullptr;
Descriptor* RegistryIntegrationTest::amd64_ = nullptr;
Descriptor* RegistryIntegrationTest::arm64_ = nullptr;
Descriptor* RegistryIntegrationTest::index_ = nullptr;

TEST_F(RegistryIntegrationTest, PullByTagAndByDigest) {
  Client client(Fast());  // no hosts.toml: a loopback registry, HTTPS then HTTP
  Reference ref = Ref(registry_->host() + "/app:v1");
  Result<Descriptor> top = client.Resolve(ref);
  ASSERT_TRUE(top.ok()) << top.error().str();
  EXPECT_EQ(top->digest, amd64_->digest);
  EXPECT_EQ(top->size, amd64_->size);
  EXPECT_EQ(top->media_type, media::kOciManifest);

  Result<Pulled> pulled = PullLayer(client, ref, HostPlatform());
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();
  Manifest m = *ParseManifest(layout_->Blob(amd64_->digest), "m");
  EXPECT_EQ(pulled->layer, layout_->Blob(m.layers[0].digest));

  Reference pinned = Ref(registry_->host() + "/app@" + amd64_->digest.str());
  Result<Descriptor> by_digest = client.Resolve(pinned);
  ASSERT_TRUE(by_digest.ok()) << by_digest.error().str();
  EXPECT_EQ(by_digest->digest, amd64_->digest);
  Result<Pulled> again = PullLayer(client, pinned, HostPlatform());
  ASSERT_TRUE(again.ok()) << again.error().str();

  Result<Descriptor> missing = client.Resolve(Ref(registry_->host() + "/app:nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
  EXPECT_EQ(missing.error().str(),
            "404 Not Found from http://" + registry_->host() + "/v2/app/manifests/nope");
}

TEST_F(RegistryIntegrationTest, MultiArchIndexPicksThePlatform) {
  Client client(Fast());
  Reference ref = Ref(registry_->host() + "/multi:v1");
  Result<Descriptor> top = client.Resolve(ref);
  ASSERT_TRUE(top.ok()) << top.error().str();
  EXPECT_EQ(top->media_type, media::kOciIndex);
  EXPECT_EQ(top->digest, index_->digest);

  for (const Descriptor* want : {amd64_, arm64_}) {
    std::string platform = "linux/" + want->platform->architecture;
    Result<Pulled> pulled = PullLayer(client, ref, *ParsePlatform(platform));
    ASSERT_TRUE(pulled.ok()) << platform << ": " << pulled.error().str();
    EXPECT_EQ(pulled->manifest, want->digest) << platform;
    Manifest m = *ParseManifest(layout_->Blob(want->digest), "m");
    EXPECT_EQ(pulled->layer, layout_->Blob(m.layers[0].digest)) << platform;
  }
  Result<Pulled> none = PullLayer(client, ref, *ParsePlatform("linux/s390x"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), Errc::kNotFound);
  EXPECT_EQ(none.error().str(), "index " + index_->digest.str() +
                                    ": no manifest for platform linux/s390x; available: "
                                    "linux/amd64, linux/arm64/v8");
}

TEST_F(RegistryIntegrationTest, HostsTomlMirrorWithFallback) {
  TempDir certs("berth-certs-d");
  ASSERT_TRUE(MkdirAll(certs / "registry.k8s.io").ok());
  uint16_t dead = testing::UnusedPort();
  uint16_t never = testing::UnusedPort();
  // `server` is a dead loopback port: nothing ever goes to registry.k8s.io.
  ASSERT_TRUE(WriteFile(certs / "registry.k8s.io/hosts.toml",
                        "server = \"http://127.0.0.1:" + std::to_string(never) +
                            "\"\n"
                            "\n"
                            "[host.\"http://127.0.0.1:" +
                            std::to_string(dead) +
                            "\"]  # unreachable\n"
                            "  capabilities = [\"pull\", \"resolve\"]\n"
                            "\n"
                            "[host.\"http://" +
                            registry_->host() +
                            "\"]\n"
                            "  capabilities = [\"pull\", \"resolve\"]\n")
                  .ok());
  ClientOptions opts = Fast();
  opts.hosts.hosts_dir = certs.path();
  Client client(opts);
  Reference ref = Ref("registry.k8s.io/pause:3.9");
  Result<Pulled> pulled = PullLayer(client, ref, HostPlatform());
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();
  Result<Descriptor> top = client.Resolve(ref);
  ASSERT_TRUE(top.ok()) << top.error().str();
  EXPECT_EQ(top->digest, amd64_->digest);

  // Without the working mirror, the error names each host tried.
  ASSERT_TRUE(WriteFile(certs / "registry.k8s.io/hosts.toml",
                        "server = \"http://127.0.0.1:" + std::to_string(never) +
                            "\"\n"
                            "[host.\"http://127.0.0.1:" +
                            std::to_string(dead) + "\"]\n")
                  .ok());
  Client next_pull(opts);  // hosts.toml is read once per Client (per pull)
  Result<Descriptor> down = next_pull.Resolve(ref);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code(), Errc::kUnavailable);
  EXPECT_NE(down.error().str().find("127.0.0.1:" + std::to_string(never)), std::string::npos);
  EXPECT_NE(down.error().str().find("127.0.0.1:" + std::to_string(dead)), std::string::npos);
}

TEST(RegistryAuthIntegrationTest, HtpasswdBasicAuth) {
  REQUIRE_TOOLS();
  TempDir dir("berth-registry-auth");
  Result<CommandResult> hash = RunTool({kHtpasswd, "-Bbn", "berth", "s3cret"}, "htpasswd");
  ASSERT_TRUE(hash.ok()) << hash.error().str();
  ASSERT_TRUE(WriteFile(dir / "htpasswd", hash->out).ok());
  auto reg = RegistryProcess::Start(dir.path(), dir / "htpasswd");
  ASSERT_TRUE(reg.ok()) << reg.error().str();
  OciLayout layout(dir / "layout");
  ASSERT_TRUE(layout.Init().ok());
  auto image = layout.AddImage("amd64", "private image");
  ASSERT_TRUE(image.ok()) << image.error().str();
  ASSERT_TRUE(layout.Tag("v1", *image).ok());
  Status pushed = PushLayout(layout.dir(), "v1", (*reg)->host() + "/app:v1", false, "berth:s3cret");
  ASSERT_TRUE(pushed.ok()) << pushed.error().str();
  Reference ref = Ref((*reg)->host() + "/app:v1");

  // Credentials from the caller (CRI AuthConfig, base64 "auth" form).
  AuthConfig given;
  given.auth = "YmVydGg6czNjcmV0";  // berth:s3cret
  ClientOptions opts = Fast();
  opts.credentials = MakeCredentials(ref.domain, given, nullptr);
  Client client(opts);
  Result<Pulled> pulled = PullLayer(client, ref, HostPlatform());
  ASSERT_TRUE(pulled.ok()) << pulled.error().str();

  // From a Docker config.json keyed by the registry host.
  ASSERT_TRUE(WriteFile(dir / "config.json",
                        R"({"auths":{")" + ref.domain + R"(":{"auth":"YmVydGg6czNjcmV0"}}})")
                  .ok());
  auto config = DockerConfig::Load(dir / "config.json");
  ASSERT_TRUE(config.ok()) << config.error().str();
  ClientOptions from_file = Fast();
  from_file.credentials =
      MakeCredentials(ref.domain, std::nullopt, std::make_shared<DockerConfig>(*config));
  Client file_client(from_file);
  ASSERT_TRUE(file_client.Resolve(ref).ok());

  // Wrong credentials: a clear 401.
  AuthConfig wrong;
  wrong.username = "berth";
  wrong.password = "guess";
  ClientOptions bad = Fast();
  bad.credentials = MakeCredentials(ref.domain, wrong, nullptr);
  Client bad_client(bad);
  Result<Descriptor> denied = bad_client.Resolve(ref);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code(), Errc::kUnauthenticated);
  EXPECT_EQ(Error(denied.error()).Wrap("pull " + ref.String()).str(),
            "pull " + ref.String() + ": 401 Unauthorized from http://" + ref.domain +
                "/v2/app/manifests/v1: invalid credentials");

  Client anonymous(Fast());
  Result<Descriptor> anon = anonymous.Resolve(ref);
  ASSERT_FALSE(anon.ok());
  EXPECT_NE(
      anon.error().str().find("authentication required (no credentials for " + ref.domain + ")"),
      std::string::npos)
      << anon.error().str();
}

}  // namespace
}  // namespace berth::image::registry
