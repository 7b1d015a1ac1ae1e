// The CRI view of records: grouping by config digest, names, size, and how
// queries resolve (containerd's localResolve).

#include "runtime/cri/images/catalog.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"
#include "runtime/cri/images/tests/test_images.h"

namespace berth::cri {
namespace {

using testing::AddImage;
using testing::Tag;
using testing::TestImage;

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = img::ImageRoot::Open(dir_ / "images");
    ASSERT_TRUE(root.ok()) << root.error().str();
    root_.emplace(std::move(root).value());
  }
  TestImage Add(const std::string& seed, int layers = 1, bool index = false) {
    auto image = AddImage(*root_, seed, layers, index);
    EXPECT_TRUE(image.ok()) << image.error().str();
    return image.ok() ? *image : TestImage{};
  }
  Catalog Load() {
    auto catalog = LoadCatalog(*root_, cache_);
    EXPECT_TRUE(catalog.ok()) << catalog.error().str();
    return catalog.ok() ? std::move(catalog).value() : Catalog({});
  }
  // The id `query` resolves to, "" for none, "error: ..." for an error.
  std::string ResolveId(const Catalog& catalog, const std::string& query) {
    auto m = catalog.Resolve(query);
    if (!m.ok()) return "error: " + m.error().str();
    return *m ? (*m)->image->id() : "";
  }

  berth::testing::TempDir dir_{"berth-cri-catalog"};
  std::optional<img::ImageRoot> root_;
  MetaCache cache_;
};

TEST_F(CatalogTest, GroupsRecordsByConfigDigest) {
  TestImage a = Add("a", 2);
  TestImage b = Add("b");
  ASSERT_TRUE(Tag(*root_, "docker.io/library/busybox:latest", a.target).ok());
  ASSERT_TRUE(Tag(*root_, "registry.example:5000/tools/box:v1", a.target).ok());
  ASSERT_TRUE(Tag(*root_, "docker.io/library/busybox@" + a.target.digest.str(), a.target).ok());
  ASSERT_TRUE(Tag(*root_, "docker.io/library/other:1", b.target).ok());
  Catalog catalog = Load();
  ASSERT_EQ(catalog.images().size(), 2u);
  const CatalogImage* ia = nullptr;
  for (const CatalogImage& i : catalog.images()) {
    if (i.id() == a.id()) ia = &i;
  }
  ASSERT_NE(ia, nullptr);
  EXPECT_EQ(ia->records.size(), 3u);
  EXPECT_EQ(ia->repo_tags, (std::vector<std::string>{"docker.io/library/busybox:latest",
                                                     "registry.example:5000/tools/box:v1"}));
  // The digest record and the two derived from tags, deduplicated.
  EXPECT_EQ(ia->repo_digests,
            (std::vector<std::string>{"docker.io/library/busybox@" + a.target.digest.str(),
                                      "registry.example:5000/tools/box@" + a.target.digest.str()}));
  EXPECT_EQ(ia->meta->chain_id, img::ChainIds(a.diff_ids).back());
  uint64_t expected = a.manifest.size + a.config.size + a.layers[0].size + a.layers[1].size;
  EXPECT_EQ(ia->meta->size, expected);
}

TEST_F(CatalogTest, SizeOfAnIndexedImageCountsTheIndexAndOneManifest) {
  TestImage a = Add("idx", 1, true);
  ASSERT_TRUE(Tag(*root_, "docker.io/library/multi:1", a.target).ok());
  Catalog catalog = Load();
  ASSERT_EQ(catalog.images().size(), 1u);
  EXPECT_EQ(catalog.images()[0].id(), a.id());
  EXPECT_EQ(
      catalog.images()[0].meta->size,
      static_cast<uint64_t>(a.target.size + a.manifest.size + a.config.size + a.layers[0].size));
  EXPECT_EQ(catalog.images()[0].repo_digests,
            (std::vector<std::string>{"docker.io/library/multi@" + a.target.digest.str()}));
}

TEST_F(CatalogTest, ResolvesNamesDigestsAndIds) {
  TestImage a = Add("a");
  TestImage b = Add("b");
  ASSERT_TRUE(Tag(*root_, "docker.io/library/busybox:latest", a.target).ok());
  ASSERT_TRUE(Tag(*root_, "localhost:5000/app@" + b.target.digest.str(), b.target).ok());
  Catalog catalog = Load();
  EXPECT_EQ(ResolveId(catalog, "busybox"), a.id());
  EXPECT_EQ(ResolveId(catalog, "busybox:latest"), a.id());
  EXPECT_EQ(ResolveId(catalog, "docker.io/library/busybox:latest"), a.id());
  EXPECT_EQ(ResolveId(catalog, "index.docker.io/library/busybox"), a.id());
  // Repo digests: derived from the tag, or a record; a tag next to a
  // digest is ignored.
  EXPECT_EQ(ResolveId(catalog, "busybox@" + a.target.digest.str()), a.id());
  EXPECT_EQ(ResolveId(catalog, "busybox:nonsense@" + a.target.digest.str()), a.id());
  EXPECT_EQ(ResolveId(catalog, "localhost:5000/app@" + b.target.digest.str()), b.id());
  // Ids: full, hex, prefixes of at least 6.
  EXPECT_EQ(ResolveId(catalog, a.id()), a.id());
  EXPECT_EQ(ResolveId(catalog, a.config.digest.hex()), a.id());
  EXPECT_EQ(ResolveId(catalog, a.config.digest.hex().substr(0, 12)), a.id());
  EXPECT_EQ(ResolveId(catalog, "sha256:" + b.config.digest.hex().substr(0, 6)), b.id());
  EXPECT_EQ(ResolveId(catalog, b.config.digest.hex().substr(0, 5)), "");
  // Absent: no error.
  EXPECT_EQ(ResolveId(catalog, "busybox:1.36"), "");
  EXPECT_EQ(ResolveId(catalog, "sha256:" + std::string(64, '0')), "");
  EXPECT_EQ(ResolveId(catalog, "localhost:5000/app@" + a.target.digest.str()), "");
  // The manifest digest is not an id.
  EXPECT_EQ(ResolveId(catalog, a.manifest.digest.str()), "");
  // Not a reference, not an id: an error naming the query.
  std::string bad = ResolveId(catalog, "Busybox:latest");
  EXPECT_NE(bad.find("error: image reference \"Busybox:latest\""), std::string::npos) << bad;
  EXPECT_NE(ResolveId(catalog, "").find("error: "), std::string::npos);
}

TEST_F(CatalogTest, MatchKindSaysHowTheImageWasNamed) {
  TestImage a = Add("a");
  ASSERT_TRUE(Tag(*root_, "docker.io/library/busybox:latest", a.target).ok());
  Catalog catalog = Load();
  auto tag = catalog.Resolve("busybox");
  ASSERT_TRUE(tag.ok() && *tag);
  EXPECT_EQ((*tag)->kind, MatchKind::kTag);
  EXPECT_EQ((*tag)->record, "docker.io/library/busybox:latest");
  auto digest = catalog.Resolve("busybox@" + a.target.digest.str());
  ASSERT_TRUE(digest.ok() && *digest);
  EXPECT_EQ((*digest)->kind, MatchKind::kDigest);
  auto id = catalog.Resolve(a.id());
  ASSERT_TRUE(id.ok() && *id);
  EXPECT_EQ((*id)->kind, MatchKind::kId);
}

TEST_F(CatalogTest, RecordsWithMissingContentAreLeftOut) {
  TestImage a = Add("a");
  TestImage b = Add("b");
  ASSERT_TRUE(Tag(*root_, "docker.io/library/good:1", a.target).ok());
  ASSERT_TRUE(Tag(*root_, "docker.io/library/broken:1", b.target).ok());
  ASSERT_TRUE(root_->content().Delete(b.config.digest).ok());
  Catalog catalog = Load();
  ASSERT_EQ(catalog.images().size(), 1u);
  EXPECT_EQ(catalog.images()[0].id(), a.id());
}

TEST_F(CatalogTest, CacheForgetsRemovedImages) {
  TestImage a = Add("a");
  ASSERT_TRUE(Tag(*root_, "docker.io/library/a:1", a.target).ok());
  EXPECT_EQ(Load().images().size(), 1u);
  ASSERT_TRUE(root_->images().Remove("docker.io/library/a:1").ok());
  EXPECT_EQ(Load().images().size(), 0u);
  // Content removed too: a stale cache entry would resurrect it.
  ASSERT_TRUE(root_->content().Delete(a.config.digest).ok());
  ASSERT_TRUE(Tag(*root_, "docker.io/library/a:1", a.target).ok());
  EXPECT_EQ(Load().images().size(), 0u);
}

}  // namespace
}  // namespace berth::cri

namespace berth::cri {
namespace {

CatalogImage FakeImage(const std::string& id) {
  auto meta = std::make_shared<ImageMeta>();
  meta->id = id;
  CatalogImage image;
  image.meta = meta;
  return image;
}

TEST(CatalogResolveTest, AnAmbiguousIdPrefixIsAnError) {
  std::string a = "sha256:abcdef0" + std::string(57, '0');
  std::string b = "sha256:abcdef1" + std::string(57, '1');
  Catalog catalog({FakeImage(a), FakeImage(b)});
  auto ambiguous = catalog.Resolve("abcdef");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(ambiguous.error().str(), "image id prefix \"abcdef\" matches several images");
  auto one = catalog.Resolve("sha256:abcdef1");
  ASSERT_TRUE(one.ok() && *one);
  EXPECT_EQ((*one)->image->id(), b);
}

}  // namespace
}  // namespace berth::cri
