#pragma once
// hostPath volumes: the `type` checks (and creations) upstream's hostPath
// plugin makes before a container mounts a path of the node.

#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::volumes {

// `type` as in the pod spec: "" (no check), DirectoryOrCreate (mkdir -p,
// 0755), Directory, FileOrCreate (an empty 0644 file; the parent must
// exist), File, Socket, CharDevice, BlockDevice. Symlinks are followed as
// upstream's stat does. kFailedPrecondition with upstream's message
// ("hostPath type check failed: /x is not a directory") when the path is of
// another type; kInvalidArgument for an unknown type.
Status CheckHostPathType(const std::string& path, std::string_view type);

}  // namespace berth::volumes
