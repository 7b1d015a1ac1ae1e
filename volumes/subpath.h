#pragma once
// subPath: a container mounting one path inside a volume.

#include <string>

#include "common/error.h"

namespace berth::volumes {

// The host path to mount for `sub_path` (subPathExpr already expanded by
// the caller) of the volume at `volume_path`, with symlinks resolved.
// kInvalidArgument naming the subPath when it is absolute, has a ".."
// element, or resolves (through symlinks) outside the volume. Missing
// directories are created with the volume directory's mode, as kubelet
// does, so that they do not appear root-owned 0755 later.
//
// Unlike kubelet, which bind-mounts the checked path into
// volume-subpaths/ to pin it, the resolved path is returned: a container
// swapping a directory for a symlink between this check and the mount
// could still redirect it.
Result<std::string> SubPathHostPath(const std::string& volume_path, const std::string& sub_path);

}  // namespace berth::volumes
