// Acceptance: a 3-layer image unpacked by berth (ApplyLayer into snapshots,
// then a read-only overlay of the chain) shows the same tree as `umoci
// unpack` of the same image: names, types, modes, owners, contents,
// symlink targets, device numbers, hard-link identity, user xattrs and
// file mtimes.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "runtime/image/manifest.h"
#include "runtime/image/unpack/apply.h"
#include "runtime/image/unpack/overlay.h"
#include "runtime/image/unpack/snapshots.h"
#include "runtime/image/unpack/tests/tar_builder.h"
#include "runtime/image/unpack/tests/tree_walk.h"

namespace berth::image {
namespace {

namespace bj = boost::json;
using testing::Compression;
using testing::TarBuilder;

constexpr const char* kUmoci = "/usr/bin/umoci";

std::vector<TarBuilder> ThreeLayers() {
  TarBuilder l1;
  l1.Owner(0, 0)
      .Dir("etc", 0755)
      .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644)
      .File("etc/motd", "hello\n", 0644)
      .Dir("usr", 0755)
      .Dir("usr/bin", 0755)
      .File("usr/bin/tool", "#!/bin/tool\n", 04755)
      .File("usr/bin/noted", "x", 0755)
      .Xattr("user.berth.note", "v1")
      .Symlink("bin", "usr/bin")
      .Dir("home", 0755)
      .Owner(1000, 1000)
      .Dir("home/user", 0700)
      .File("home/user/.profile", "export X=1\n", 0600)
      .Owner(0, 0)
      .Dir("data", 0755)
      .File("data/a", "a\n", 0644)
      .Owner(0, 42)
      .File("data/b", "b\n", 0640)
      .Owner(0, 0)
      .Dir("opt", 0755)
      .Dir("opt/app", 0755)
      .File("opt/app/old1", "1", 0644)
      .File("opt/app/old2", "2", 0644)
      .Dir("opt/app/sub", 0755)
      .File("opt/app/sub/deep", "d", 0644)
      .Dir("tmp", 01777)
      .Dir("dev", 0755)
      .Device("dev/null", S_IFCHR, 1, 3, 0666);

  TarBuilder l2;
  l2.Owner(0, 0)
      .Mtime(1700000100)
      .Dir("data", 0755)
      .Whiteout("data/a")  // a file deleted
      .File("data/c", "c\n", 0644)
      .Dir("etc", 0755)
      .File("etc/motd", "changed\n", 0600)
      .Dir("usr/bin/newdir", 0711);  // parents implicit

  TarBuilder l3;
  l3.Owner(0, 0)
      .Mtime(1700000200)
      .Dir("opt", 0755)
      .Dir("opt/app", 0750)
      .Opaque("opt/app")  // a directory made opaque
      .File("opt/app/new", "n\n", 0644)
      .Dir("srv", 0755)
      .Owner(1000, 1000)
      .File("srv/f", "shared\n", 0644)
      .Hardlink("srv/g", "srv/f")  // a hard link
      .Owner(0, 0)
      .Symlink("srv/link", "../etc/passwd")  // symlinks
      .Symlink("srv/abs", "/etc/motd")
      .Dir("dev", 0755)
      .Owner(0, 6)
      .Device("dev/sda", S_IFBLK, 8, 0, 0660)  // device nodes
      .Owner(0, 0)
      .Device("dev/mydev", S_IFCHR, 10, 200, 0600)
      .Fifo("dev/fifo", 0600)
      .Owner(0, 50)
      .File("usr/bin/tool2", "t2\n", 02755);
  return {l1, l2, l3};
}

std::string Put(const std::string& layout, const std::string& content, Digest* digest) {
  *digest = Sha256Of(content);
  EXPECT_TRUE(WriteFile(layout + "/blobs/sha256/" + digest->hex(), content).ok());
  return content;
}

// An OCI image layout with one manifest tagged `tag`.
void WriteLayout(const std::string& layout, const std::vector<std::string>& blobs,
                 const std::vector<Digest>& blob_digests, const std::vector<Digest>& diff_ids,
                 const std::string& tag) {
  ASSERT_TRUE(MkdirAll(layout + "/blobs/sha256").ok());
  ASSERT_TRUE(WriteFile(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})").ok());
  bj::array diff_array;
  for (const Digest& d : diff_ids)
    diff_array.emplace_back(d.str());
  bj::object config{{"architecture", "amd64"},
                    {"os", "linux"},
                    {"config", bj::object{{"Cmd", bj::array{"/bin/sh"}}}},
                    {"rootfs", bj::object{{"type", "layers"}, {"diff_ids", diff_array}}}};
  Digest config_digest;
  std::string config_json = Put(layout, bj::serialize(config), &config_digest);
  bj::array layers;
  for (size_t i = 0; i < blobs.size(); ++i) {
    layers.emplace_back(bj::object{{"mediaType", std::string(media::kOciLayerGzip)},
                                   {"digest", blob_digests[i].str()},
                                   {"size", blobs[i].size()}});
  }
  bj::object manifest{{"schemaVersion", 2},
                      {"mediaType", std::string(media::kOciManifest)},
                      {"config", bj::object{{"mediaType", std::string(media::kOciConfig)},
                                            {"digest", config_digest.str()},
                                            {"size", config_json.size()}}},
                      {"layers", layers}};
  Digest manifest_digest;
  std::string manifest_json = Put(layout, bj::serialize(manifest), &manifest_digest);
  bj::object index{
      {"schemaVersion", 2},
      {"manifests", bj::array{bj::object{
                        {"mediaType", std::string(media::kOciManifest)},
                        {"digest", manifest_digest.str()},
                        {"size", manifest_json.size()},
                        {"annotations", bj::object{{"org.opencontainers.image.ref.name", tag}}}}}}};
  ASSERT_TRUE(WriteFile(layout + "/index.json", bj::serialize(index)).ok());
}

TEST(UmociCompat, ThreeLayerImageUnpacksLikeUmoci) {
  BERTH_REQUIRE(berth::testing::IsRoot(), "needs root");
  BERTH_REQUIRE(PathExists(kUmoci), "umoci at /usr/bin/umoci");
  berth::testing::TempDir tmp("berth-umoci");  // outlives the mount below

  std::vector<std::string> blobs;
  std::vector<Digest> blob_digests;
  std::vector<Digest> diff_ids;
  for (const TarBuilder& layer : ThreeLayers()) {
    std::string tar = layer.Tar();
    diff_ids.push_back(Sha256Of(tar));
    blobs.push_back(testing::Compress(tar, Compression::kGzip));
    blob_digests.push_back(Sha256Of(blobs.back()));
  }
  const std::string layout = tmp / "layout";
  WriteLayout(layout, blobs, blob_digests, diff_ids, "v1");
  for (size_t i = 0; i < blobs.size(); ++i) {
    ASSERT_TRUE(WriteFile(layout + "/blobs/sha256/" + blob_digests[i].hex(), blobs[i]).ok());
  }

  // umoci's rootfs.
  Command umoci;
  umoci.argv = {kUmoci, "unpack", "--image", layout + ":v1", tmp / "bundle"};
  umoci.timeout = std::chrono::seconds(120);
  Result<CommandResult> ran = RunCommand(umoci);
  ASSERT_TRUE(ran.ok()) << ran.error().str();
  ASSERT_TRUE(ran->success()) << ran->Describe() << "\n" << ran->err;

  // berth's: one snapshot per layer, then a read-only overlay of the chain.
  Snapshots snapshots(tmp / "snapshots");
  std::vector<Digest> chain = ChainIds(diff_ids);
  for (size_t i = 0; i < chain.size(); ++i) {
    std::string blob = layout + "/blobs/sha256/" + blob_digests[i].hex();
    Result<std::string> dir = snapshots.Ensure(
        chain[i], i == 0 ? Digest() : chain[i - 1],
        [&](const std::string& dir, const std::vector<std::string>& lowers) -> Status {
          Result<ApplyResult> r =
              ApplyLayer(blob, dir, {.lower_dirs = lowers, .expected_diff_id = diff_ids[i]});
          if (!r.ok()) return std::move(r).error();
          return Ok();
        });
    ASSERT_TRUE(dir.ok()) << dir.error().str();
  }
  Result<std::vector<std::string>> lowers = snapshots.LowerDirs(chain.back());
  ASSERT_TRUE(lowers.ok()) << lowers.error().str();
  ASSERT_EQ(lowers->size(), 3u);
  const std::string rootfs = tmp / "rootfs";
  ASSERT_TRUE(MkdirAll(rootfs).ok());
  Result<OverlayMount> mount = MountOverlay(*lowers, "", "", rootfs, true);
  ASSERT_TRUE(mount.ok()) << mount.error().str();

  std::map<std::string, testing::Node> want = testing::WalkTree(tmp / "bundle/rootfs");
  std::map<std::string, testing::Node> got = testing::WalkTree(rootfs);
  // The reference must show what the layers say, or the comparison proves
  // nothing.
  ASSERT_FALSE(want.contains("data/a"));
  ASSERT_TRUE(want.contains("data/b"));
  ASSERT_FALSE(want.contains("opt/app/old1"));
  ASSERT_FALSE(want.contains("opt/app/sub"));
  ASSERT_TRUE(want.contains("opt/app/new"));
  ASSERT_EQ(want["srv/f"].links, std::vector<std::string>{"srv/g"});
  ASSERT_TRUE(S_ISCHR(want["dev/mydev"].mode));
  ASSERT_EQ(want["usr/bin/noted"].user_xattrs.size(), 1u);

  std::vector<std::string> diffs = testing::DiffTrees(want, got, /*mtimes=*/true);
  std::string report;
  for (const std::string& d : diffs)
    report += "  " + d + "\n";
  EXPECT_TRUE(diffs.empty()) << "umoci vs berth:\n" << report;
  EXPECT_EQ(want.size(), got.size());
  ASSERT_TRUE(mount->Unmount().ok());
}

}  // namespace
}  // namespace berth::image
