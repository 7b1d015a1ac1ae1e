#pragma once
// Making a prepared directory the root of the calling process's mount
// namespace.

#include <string>

#include "common/error.h"

namespace berth::ns {

// pivot_root(2) without a put_old directory: pivot_root(".", ".") stacks the
// old root under the new one, which is then made a slave and lazily
// unmounted, so nothing of the host stays reachable. `new_root` must be a
// mount point (bind-mount it onto itself first).
Status PivotRoot(const std::string& new_root);

// For --no-pivot (rootfs on a ramfs, where pivot_root is impossible):
// MS_MOVE the rootfs onto / and chroot into it.
Status MoveRoot(const std::string& new_root);

}  // namespace berth::ns
