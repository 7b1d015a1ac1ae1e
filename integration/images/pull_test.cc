// `berth image pull` end to end against Debian's docker-registry on
// 127.0.0.1, fed with images built locally (umoci) and pushed by skopeo:
// pull by tag and by digest and run, layer sharing between images, and two
// concurrent pulls downloading each blob once (counted in the registry's
// access log). Root (overlay mounts, ownership): label priv.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <optional>
#include <thread>

#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/fixtures/image_layout.h"
#include "runtime/image/registry/tests/registry_process.h"

namespace berth::integration {
namespace {

using image::registry::testing::PushLayout;
using image::registry::testing::RegistryProcess;

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(testing::IsRoot(), "root");
    rootfs_ = testing::BuiltBinary("integration/fixtures/busybox-rootfs");
    BERTH_REQUIRE(PathExists(rootfs_ + "/bin/busybox"),
                  "the busybox fixture rootfs (target berth_fixture_rootfs)");
    BERTH_REQUIRE(PathExists("/usr/bin/docker-registry") && PathExists("/usr/bin/umoci") &&
                      PathExists("/usr/bin/skopeo"),
                  "docker-registry, umoci and skopeo (run .ci/setup)");
    ASSERT_TRUE(MkdirAll(dir_ / "registry").ok());
    auto registry = RegistryProcess::Start(dir_ / "registry");
    ASSERT_TRUE(registry.ok()) << registry.error().str();
    registry_ = std::move(registry).value();
    auto layout = BuildOciLayout(rootfs_, dir_.path(), {"/bin/sh", "-c", "echo pulled and ran"});
    ASSERT_TRUE(layout.ok()) << layout.error().str();
    layout_ = *layout;
  }

  std::string Ref(const std::string& repo_tag) { return registry_->host() + "/" + repo_tag; }

  Command BerthCommand(const std::vector<std::string>& args, const std::string& root) {
    Command cmd;
    cmd.argv = {testing::BuiltBinary("cmd/berth"), "image", "--root", root};
    cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
    cmd.timeout = std::chrono::seconds(120);
    return cmd;
  }
  CommandResult Berth(const std::vector<std::string>& args) {
    Result<CommandResult> r = RunCommand(BerthCommand(args, dir_ / "images"));
    EXPECT_TRUE(r.ok()) << r.error().str();
    return r.ok() ? *r : CommandResult{};
  }
  size_t Count(const std::string& subdir) {
    Result<std::vector<std::string>> names = ListDir(dir_ / subdir);
    return names.ok() ? names->size() : 0;
  }
  // Successful GETs of `digest`'s blob in the registry's access log
  // (combined log format: "GET /v2/<repo>/blobs/<digest> HTTP/1.1" 200 ...).
  int BlobDownloads(const std::string& digest) {
    int n = 0;
    for (const std::string& line : SplitNonEmpty(registry_->Log(), '\n')) {
      if (line.find("\"GET /v2/") != std::string::npos &&
          line.find("/blobs/" + digest + " HTTP/1.1\" 200 ") != std::string::npos) {
        ++n;
      }
    }
    return n;
  }

  testing::TempDir dir_{"berth-pull"};
  std::string rootfs_, layout_;
  std::unique_ptr<RegistryProcess> registry_;
};

TEST_F(PullTest, ByTagAndByDigestThenRun) {
  ASSERT_TRUE(PushLayout(layout_, "latest", Ref("demo/app:v1")).ok());
  CommandResult tag = Berth({"pull", "--quiet", Ref("demo/app:v1")});
  ASSERT_TRUE(tag.success()) << tag.err;
  std::vector<std::string> words = SplitNonEmpty(Trim(tag.out), ' ');
  ASSERT_EQ(words.size(), 2u) << tag.out;
  EXPECT_EQ(words[0], Ref("demo/app:v1"));
  std::string digest = words[1];

  CommandResult pinned = Berth({"pull", "--quiet", Ref("demo/app@" + digest)});
  ASSERT_TRUE(pinned.success()) << pinned.err;
  EXPECT_EQ(Trim(pinned.out), Ref("demo/app@" + digest) + " " + digest);
  CommandResult ls = Berth({"ls", "-q"});
  EXPECT_EQ(ls.out, Ref("demo/app:v1") + "\n" + Ref("demo/app@" + digest) + "\n");

  Command run;
  run.argv = {testing::BuiltBinary("cmd/berth"),
              "run",
              "--root",
              dir_ / "images",
              "--containers-dir",
              dir_ / "containers",
              "--runtime-root",
              dir_ / "runc",
              Ref("demo/app:v1")};
  run.timeout = std::chrono::seconds(60);
  Result<CommandResult> ran = RunCommand(run);
  ASSERT_TRUE(ran.ok());
  EXPECT_TRUE(ran->success()) << ran->Describe() << ran->err;
  EXPECT_EQ(ran->out, "pulled and ran\n");

  CommandResult missing = Berth({"pull", "--quiet", Ref("demo/app:nope")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("pull " + Ref("demo/app:nope") + ": "), std::string::npos)
      << missing.err;
  EXPECT_NE(missing.err.find("404"), std::string::npos) << missing.err;
}

TEST_F(PullTest, ImagesSharingABaseLayerStoreItOnce) {
  // unpack + repack (umoci 0.4.7's `insert` of a small directory writes a
  // tar stream without its end padding, which Go's tar reader refuses too).
  ASSERT_TRUE(RunTool({"umoci", "tag", "--image", layout_ + ":latest", "v2"}).ok());
  ASSERT_TRUE(RunTool({"umoci", "unpack", "--image", layout_ + ":v2", dir_ / "bundle"}).ok());
  ASSERT_TRUE(MkdirAll(dir_ / "bundle/rootfs/extra").ok());
  ASSERT_TRUE(WriteFile(dir_ / "bundle/rootfs/extra/hello.txt", "extra layer\n").ok());
  ASSERT_TRUE(RunTool({"umoci", "repack", "--image", layout_ + ":v2", dir_ / "bundle"}).ok());
  ASSERT_TRUE(PushLayout(layout_, "latest", Ref("demo/base:v1")).ok());
  ASSERT_TRUE(PushLayout(layout_, "v2", Ref("demo/derived:v1")).ok());
  ASSERT_TRUE(Berth({"pull", "--quiet", Ref("demo/base:v1")}).success());
  EXPECT_EQ(Count("images/content/blobs/sha256"), 3u);  // manifest, config, layer
  EXPECT_EQ(Count("images/snapshots"), 1u);
  CommandResult derived = Berth({"pull", "--quiet", Ref("demo/derived:v1")});
  ASSERT_TRUE(derived.success()) << derived.err;
  // The base layer is shared: only the new manifest, config and layer.
  EXPECT_EQ(Count("images/content/blobs/sha256"), 6u);
  EXPECT_EQ(Count("images/snapshots"), 2u);
}

// A registry serving a layer whose bytes do not match its digest: the pull
// fails naming that digest and leaves no blob, partial download, snapshot
// or image record behind.
TEST_F(PullTest, CorruptBlobIsRejectedAndLeavesNothing) {
  ASSERT_TRUE(PushLayout(layout_, "latest", Ref("demo/corrupt:v1")).ok());
  // The layer is the largest blob in the registry's storage; flip one byte
  // of it in place (the size stays right, the digest does not).
  std::string blobs = dir_ / "registry/data/docker/registry/v2/blobs/sha256";
  std::string layer_hex, layer_data;
  int64_t largest = -1;
  Result<std::vector<std::string>> prefixes = ListDir(blobs);
  ASSERT_TRUE(prefixes.ok()) << prefixes.error().str();
  for (const std::string& prefix : *prefixes) {
    Result<std::vector<std::string>> hexes = ListDir(blobs + "/" + prefix);
    ASSERT_TRUE(hexes.ok());
    for (const std::string& hex : *hexes) {
      std::string data = blobs + "/" + prefix + "/" + hex + "/data";
      struct stat st {};
      if (::stat(data.c_str(), &st) == 0 && st.st_size > largest) {
        largest = st.st_size;
        layer_hex = hex;
        layer_data = data;
      }
    }
  }
  ASSERT_GT(largest, 1000) << "no layer found under " << blobs;
  Result<std::string> bytes = ReadFile(layer_data);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[bytes->size() / 2] ^= 0x55;
  ASSERT_TRUE(WriteFile(layer_data, *bytes).ok());

  CommandResult r = Berth({"pull", "--quiet", Ref("demo/corrupt:v1")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("blob sha256:" + layer_hex + ": content digest sha256:"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;
  EXPECT_FALSE(PathExists(dir_ / "images/content/blobs/sha256" + ("/" + layer_hex)));
  Result<std::vector<std::string>> ingest = ListDir(dir_ / "images/content/ingest");
  ASSERT_TRUE(ingest.ok());
  for (const std::string& name : *ingest)
    EXPECT_NE(name.find(".lock"), std::string::npos) << "partial download left: " << name;
  EXPECT_EQ(Count("images/snapshots"), 0u);
  EXPECT_EQ(Berth({"ls", "-q"}).out, "");
}

TEST_F(PullTest, ConcurrentPullsDownloadEachBlobOnce) {
  ASSERT_TRUE(PushLayout(layout_, "latest", Ref("demo/twice:v1")).ok());
  std::vector<Result<CommandResult>> results(2, Error(Errc::kInternal, "not run"));
  std::vector<std::thread> pulls;
  for (int i = 0; i < 2; ++i) {
    pulls.emplace_back([&, i] {
      results[i] =
          RunCommand(BerthCommand({"pull", "--quiet", Ref("demo/twice:v1")}, dir_ / "images"));
    });
  }
  for (std::thread& t : pulls)
    t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error().str();
    EXPECT_TRUE(r->success()) << r->err;
  }
  Result<std::vector<std::string>> blobs = ListDir(dir_ / "images/content/blobs/sha256");
  ASSERT_TRUE(blobs.ok());
  // The config and the layer come from /blobs/ (the manifest from
  // /manifests/): two downloads in all, each blob once.
  int total = 0;
  for (const std::string& hex : *blobs) {
    int n = BlobDownloads("sha256:" + hex);
    EXPECT_LE(n, 1) << "sha256:" << hex << " downloaded " << n << " times";
    total += n;
  }
  EXPECT_EQ(total, 2) << registry_->Log();
  EXPECT_EQ(Count("images/snapshots"), 1u);
  EXPECT_TRUE(Berth({"inspect", Ref("demo/twice:v1")}).success());
}

}  // namespace
}  // namespace berth::integration
