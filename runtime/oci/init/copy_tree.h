#pragma once
// Copying a directory tree between two directory fds, for tmpfs mounts with
// "tmpcopyup": the tmpfs starts with what the image had at that path.
// Directories, regular files and symlinks are copied with modes and owners;
// device nodes, sockets and fifos are not.

#include <string>

#include "common/error.h"

namespace berth::runtime::oci {

// `what` names the tree in errors.
Status CopyTree(int from_dir_fd, int to_dir_fd, const std::string& what);

}  // namespace berth::runtime::oci
