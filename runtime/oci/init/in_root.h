#pragma once
// Paths inside a container rootfs, resolved from a directory fd with
// openat2(RESOLVE_IN_ROOT): symlinks and ".." are resolved as if the rootfs
// were "/", so a hostile image cannot point a mount or mknod at the host.
// Mount targets are then addressed as /proc/self/fd/<n> (crun's approach).

#include <sys/types.h>

#include <string>

#include "common/error.h"
#include "common/fd.h"

namespace berth::runtime::oci {

// openat2(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
Result<UniqueFd> OpenInRoot(int root_fd, const std::string& path, int flags);
// Creates every missing directory of `path` inside the root; returns an
// O_PATH fd of the final directory.
Result<UniqueFd> MkdirAllInRoot(int root_fd, const std::string& path, mode_t mode = 0755);
// Makes sure `path` exists as a regular (empty) file to bind-mount a file
// onto; returns an O_PATH fd of it.
Result<UniqueFd> EnsureFileInRoot(int root_fd, const std::string& path);
// "/proc/self/fd/<fd>", the magic link mount(2) accepts as a target.
std::string FdPath(int fd);

}  // namespace berth::runtime::oci
