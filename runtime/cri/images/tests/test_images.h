#pragma once
// Hand-made images in a temporary image root, for tests that need no
// registry: content (index, manifest, config, layer blobs) and records.

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/image/image_root.h"

namespace berth::cri::testing {

namespace img = ::berth::image;

struct TestImage {
  img::Descriptor target;  // the manifest, or the index when `index`
  img::Descriptor manifest;
  img::Descriptor config;
  std::vector<img::Descriptor> layers;
  std::vector<img::Digest> diff_ids;
  std::string id() const { return config.digest.str(); }
};

// Writes an image's blobs into `root`'s content store: `seed` varies the
// content (and so the id), `layers` opaque layer blobs (made-up diff_ids:
// it cannot be unpacked), `user` the config's User, `index` wraps the
// manifest in an image index.
Result<TestImage> AddImage(const img::ImageRoot& root, const std::string& seed, int layers = 1,
                           bool index = false, const std::string& user = "");

// Records `name` (a normalized reference) -> target, for the host platform.
Status Tag(const img::ImageRoot& root, const std::string& name, const img::Descriptor& target);

// Commits the snapshots of the image's chain with one file each, as an
// unpack would have (sizes make the snapshots directory non-empty).
Status MakeSnapshots(img::ImageRoot& root, const TestImage& image);

}  // namespace berth::cri::testing
