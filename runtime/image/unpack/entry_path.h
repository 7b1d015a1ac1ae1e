#pragma once
// Tar member names as a layer applier must read them: cleaned to a path
// relative to the layer root, refused when they would leave it, and
// classified as an ordinary entry or one of the OCI whiteout markers
// (image-spec layer.md, "Whiteouts"):
//   dir/.wh.name        deletes `name` from the lower layers
//   dir/.wh..wh..opq    hides every lower-layer child of `dir`
//   dir/.wh..wh.other   aufs metadata (hard-link hints): ignored, with
//                       everything beneath it
// Pure functions: no filesystem access.

#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::image {

// Cleans a member name or hard-link target lexically: a leading "/" and
// "./" are dropped, empty and "." components removed, "a/../b" becomes "b".
// Returns "" for the layer root itself. A name that climbs above the root
// ("../x", "/../x", "a/../../x") is refused (kPermissionDenied, "path
// escapes the layer").
Result<std::string> CleanEntryPath(std::string_view name);

enum class EntryKind {
  kNormal,    // create `path`
  kWhiteout,  // delete `path` (the ".wh." prefix already stripped)
  kOpaque,    // make directory `path` opaque
  kAufsMeta,  // in or under ".wh..wh.*" (not the opaque marker): skip
};

struct EntryPath {
  EntryKind kind = EntryKind::kNormal;
  std::string path;  // cleaned; "" is the layer root
};

// CleanEntryPath plus whiteout classification. A whiteout must name a
// child ("dir/.wh." or "dir/.wh.." are refused).
Result<EntryPath> ParseEntryPath(std::string_view name);

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}; "" -> {"", ""}.
std::pair<std::string, std::string> SplitParent(const std::string& path);

}  // namespace berth::image
