#pragma once
// Everything berth keeps of images under one directory (default
// /var/lib/berth/images):
//   content/     the content store (blobs)
//   images/      image records (names -> manifests)
//   snapshots/   unpacked layers, keyed by chain ID
// and the operations that span them: unpacking an image into its snapshot
// chain, removing an image, pruning what no image references.

#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/image/manifest.h"
#include "runtime/image/store/content_store.h"
#include "runtime/image/store/image_store.h"
#include "runtime/image/unpack/snapshots.h"

namespace berth::image {

inline constexpr char kDefaultImageRoot[] = "/var/lib/berth/images";

// An image ready to run: its config and the snapshot directories an overlay
// mounts (top-most first).
struct UnpackedImage {
  ImageRecord record;
  Descriptor manifest;
  ImageConfig config;
  std::vector<std::string> lower_dirs;
};

struct PruneReport {
  std::vector<Digest> blobs;      // removed
  std::vector<Digest> snapshots;  // removed (chain IDs)
  uint64_t bytes = 0;
};

class ImageRoot {
 public:
  static Result<ImageRoot> Open(const std::string& root);

  const std::string& root() const { return root_; }
  const ContentStore& content() const { return content_; }
  const ImageStore& images() const { return images_; }
  Snapshots& snapshots() { return snapshots_; }

  // An image by name as given ("busybox" finds docker.io/library/busybox:latest),
  // by full digest of its target, or by a unique prefix of that digest's hex (>= 6).
  Result<ImageRecord> Find(const std::string& name) const;
  // Unpacks (if needed) the layers of `record`'s manifest for `platform`
  // into snapshots, verifying each layer's diff_id against the config.
  // `ready(i)`, when given, is awaited before layer i is used (a pull
  // unpacks each layer as soon as it and those below it are downloaded).
  using LayerReady = std::function<Status(size_t layer)>;
  Result<UnpackedImage> Unpack(const ImageRecord& record, const Platform& platform,
                               const LayerReady& ready = {});
  // Blobs and snapshots no image references.
  Result<PruneReport> Prune();

 private:
  ImageRoot(std::string root, ContentStore content, ImageStore images)
      : root_(std::move(root)),
        content_(std::move(content)),
        images_(std::move(images)),
        snapshots_(root_ + "/snapshots") {}
  std::string root_;
  ContentStore content_;
  ImageStore images_;
  Snapshots snapshots_;
};

// The platform an image record was pulled for ("" = the host's).
Result<Platform> RecordPlatform(const ImageRecord& record);

}  // namespace berth::image
