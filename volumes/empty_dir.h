#pragma once
// The directories under a pod's volumes: on the node's disk (emptyDir,
// configMap) or on a tmpfs of their own (emptyDir medium Memory, secret,
// downwardAPI, projected), as upstream's emptyDir plugin makes them.

#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "common/error.h"

namespace berth::volumes {

// The tmpfs size of a memory-backed volume (upstream's
// calculateEmptyDirMemorySize): the node's allocatable memory, lowered to
// the pod's memory limit when every container declares one, lowered to
// `size_limit` (the emptyDir's sizeLimit) when set. 0 (the kernel's
// default, half of RAM) when none is known.
Result<int64_t> MemoryVolumeSize(const boost::json::object& pod, int64_t size_limit,
                                 int64_t node_memory);

// Creates `dir` 0777 (whatever the umask) when missing, and its parents
// 0750: true when it created it.
Result<bool> EnsureDiskDir(const std::string& dir);

}  // namespace berth::volumes
