#pragma once
// The CRI's view of berth's image records.
//
// Vocabulary (containerd's CRI plugin's, which kubelet and crictl expect):
//   image id     the digest of the image's config ("sha256:..."): what
//                PullImage returns and what Image.id, Container.image_id
//                and ContainerStatus.image_ref name
//   repo tag     "docker.io/library/busybox:1.36": a record named by tag
//   repo digest  "docker.io/library/busybox@sha256:<target>": a record
//                named by digest, and one derived from each tag record
//                (its name without the tag, at its target's digest)
//   image        every record whose content has the same config: one
//                CatalogImage with all its tags and digests
//
// A Catalog is a snapshot built from the records on disk; it is cheap
// because everything derived from content (which is immutable, addressed
// by digest) is kept in a MetaCache.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "runtime/image/image_root.h"
#include "runtime/image/manifest.h"
#include "runtime/image/reference.h"

namespace berth::cri {

namespace img = ::berth::image;

// What a record's content says, for the platform it was pulled for.
struct ImageMeta {
  std::string id;        // the config's digest
  img::Digest manifest;  // the platform's manifest
  img::Digest chain_id;  // of the top layer; empty for an image without layers
  uint64_t size = 0;     // the index (if any), manifest, config and layers, as
                         // containerd's CRI reports: compressed, in the store
  img::ImageConfig config;
  std::string config_json;  // the config blob as stored
};

struct CatalogImage {
  std::shared_ptr<const ImageMeta> meta;
  std::vector<img::ImageRecord> records;  // sorted by name
  std::vector<std::string> repo_tags;     // sorted, unique
  std::vector<std::string> repo_digests;  // sorted, unique
  const std::string& id() const { return meta->id; }
};

// How a query found its image: by a tag record, by a repo digest or by id.
enum class MatchKind { kTag, kDigest, kId };

struct Match {
  const CatalogImage* image = nullptr;
  MatchKind kind = MatchKind::kId;
  std::string record;  // the tag record's name (kTag)
};

class Catalog {
 public:
  explicit Catalog(std::vector<CatalogImage> images) : images_(std::move(images)) {}
  const std::vector<CatalogImage>& images() const { return images_; }

  // containerd's localResolve: `query` as a reference (normalized, Docker
  // rules; with both a tag and a digest the tag is dropped) naming a repo
  // tag or repo digest, else as an image id: "sha256:<hex>" or a prefix of
  // the hex (at least 6 characters). nullopt when nothing matches; an
  // error (InvalidArgument) when `query` is neither a valid reference nor
  // an id, or when an id prefix matches several images.
  Result<std::optional<Match>> Resolve(std::string_view query) const;

 private:
  std::optional<Match> FindId(std::string_view query, std::optional<Error>* ambiguous) const;
  std::vector<CatalogImage> images_;
};

// ImageMeta per (record target, platform); thread-safe.
class MetaCache {
 public:
  Result<std::shared_ptr<const ImageMeta>> Get(const img::ContentStore& content,
                                               const img::ImageRecord& record);
  // Forgets every entry not in `keys` (Key()s of the records that remain).
  void Retain(const std::set<std::string>& keys);
  static std::string Key(const img::ImageRecord& record);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const ImageMeta>> entries_;
};

// Reads what the image's content says (uncached).
Result<ImageMeta> ReadImageMeta(const img::ContentStore& content, const img::ImageRecord& record);

// Every record in `root`, grouped by image id. Records whose content is
// missing or unreadable are left out (logged): one broken record must not
// hide every image from the kubelet.
Result<Catalog> LoadCatalog(const img::ImageRoot& root, MetaCache& cache);

// The normalized form a reference is stored and matched under (tag dropped
// when a digest is present); errors name the reference.
Result<img::Reference> NormalizeReference(std::string_view text);

}  // namespace berth::cri
