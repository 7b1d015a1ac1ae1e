#pragma once
// Walking what an image references in the content store: an index's
// manifests (only those present: a pull fetches one platform), a manifest's
// config and layers. Used by prune (mark), rm, export and inspect.

#include <set>
#include <vector>

#include "common/error.h"
#include "runtime/image/manifest.h"
#include "runtime/image/store/content_store.h"

namespace berth::image {

struct ImageContent {
  std::vector<Descriptor> documents;  // indexes and manifests, target first
  std::vector<Descriptor> configs;
  std::vector<Descriptor> layers;
  // Blobs a walk expected but the store lacks (an index's other platforms
  // are not counted: they are never fetched).
  std::vector<Descriptor> missing;
};

Result<ImageContent> WalkImage(const ContentStore& store, const Descriptor& target);

// The manifest for `platform` under `target` (an index or a manifest),
// from the store.
Result<Descriptor> SelectStoredManifest(const ContentStore& store, const Descriptor& target,
                                        const Platform& platform);

}  // namespace berth::image
