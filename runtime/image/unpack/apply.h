#pragma once
// Applying one image layer (a tar changeset, plain, gzip or zstd) into an
// empty snapshot directory, in the form overlayfs mounts: the directory
// holds what the layer adds or changes, whiteouts as 0/0 character devices
// and opaque directories as trusted.overlay.opaque=y, so that mounting it
// above its parents' directories shows the image's filesystem at this
// layer (image-spec layer.md; the semantics of containerd's overlay
// applier).
//
// Safety: every member is created strictly inside target_dir. Names that
// climb out ("../x", "/../x") are refused, and all lookups are confined by
// openat2(RESOLVE_BENEATH), so a symlink in the layer cannot redirect a
// later member (or a hard-link target) outside. On error the directory is
// left half-written, and the caller removes it; nothing outside it has been
// touched.
//
// Requires /proc (xattrs of symlink-free paths are set through
// /proc/self/fd) and, for real images, root: lchown, mknod and trusted.*
// xattrs need CAP_CHOWN, CAP_MKNOD and CAP_SYS_ADMIN.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/image/digest.h"

namespace berth::image {

// Members have initializers so designated initializers may name any subset.
struct ApplyOptions {
  // The parent snapshots' directories, top-most first (empty for a base
  // layer). Read only: implicit parent directories copy their attributes,
  // and hard links to files of lower layers copy the file up.
  std::vector<std::string> lower_dirs{};
  // Names the layer in errors, e.g. its digest. Default: the digest when
  // blob_path looks like a content store's ".../sha256/<hex>", else the path.
  std::string layer_name{};
  // When set, a stream whose diff_id differs is an error (kDataLoss).
  Digest expected_diff_id{};
};

struct ApplyResult {
  Digest diff_id;               // sha256 of the uncompressed tar stream
  uint64_t unpacked_bytes = 0;  // sum of the regular files' sizes
  uint64_t tar_bytes = 0;       // size of the uncompressed tar stream
  std::string compression;      // "gzip", "zstd" or "none"
};

Result<ApplyResult> ApplyLayer(const std::string& blob_path, const std::string& target_dir,
                               const ApplyOptions& opts);

}  // namespace berth::image
