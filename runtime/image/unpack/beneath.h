#pragma once
// Filesystem access confined beneath a directory fd. Every lookup goes
// through openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so a
// symlink (absolute, or relative with enough "..") can never carry a path
// out of the directory: the kernel answers EXDEV, reported here as "path
// escapes the layer". Final components are then handled with *at calls on
// the parent fd that do not follow them.

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/fd.h"

namespace berth::image {

// Opens `path` (cleaned, relative; "" is the directory itself) beneath
// root_fd. `what` names the path in errors.
Result<UniqueFd> OpenBeneath(int root_fd, const std::string& path, int flags,
                             const std::string& what);

// Opens directory `path` beneath root_fd as an O_PATH fd, creating missing
// components (mode 0755) one at a time; after each mkdir the prefix is
// resolved again beneath the root. `on_create(prefix, dir_fd_of_parent,
// name)` runs after each directory this call created, before its children.
using OnCreateDir =
    std::function<Status(const std::string& prefix, int parent_fd, const std::string& name)>;
Result<UniqueFd> MkdirAllBeneath(int root_fd, const std::string& path,
                                 const OnCreateDir& on_create);

// lstat of `name` in dir_fd; nullopt when it does not exist.
Result<std::optional<struct stat>> StatAt(int dir_fd, const std::string& name,
                                          const std::string& what);

// True for an overlayfs whiteout: a character device numbered 0/0.
bool IsWhiteout(const struct stat& st);

// "/proc/self/fd/<dir_fd>/<name>": a path for the l*xattr calls, which have
// no *at form. The kernel resolves the fd (already confined), then `name`
// without following it.
std::string FdChildPath(int dir_fd, const std::string& name);

}  // namespace berth::image
