#pragma once
// Removal of a pod's directory that can never reach outside it.

#include <string>

#include "common/error.h"

namespace berth::volumes {

// Removes `name` under directory `parent` and everything below it without
// following symlinks and without crossing into another filesystem: an
// entry on another device than `parent/name` itself (a mount point still
// in place) fails the removal with kFailedPrecondition and is left alone.
// A missing `name` is not an error.
Status RemoveTreeOnOneFilesystem(const std::string& parent, const std::string& name);

}  // namespace berth::volumes
