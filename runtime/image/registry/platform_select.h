#pragma once
// Choosing one image manifest from an index (manifest list) for a platform.

#include <string_view>

#include "common/error.h"
#include "runtime/image/manifest.h"

namespace berth::image::registry {

// The manifest in `index` for `want`: among the manifests whose platform
// PlatformMatches `want`, an exact match (same variant) first, then for arm
// the highest compatible variant, then index order. Entries that are not
// image manifests (nested indexes, attestations with platform unknown/unknown)
// never match. NotFound names `what` (e.g. "index sha256:...") and lists the
// platforms the index has.
Result<Descriptor> SelectManifest(const Index& index, const Platform& want,
                                  std::string_view what = "index");

}  // namespace berth::image::registry
