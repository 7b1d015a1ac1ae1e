#pragma once
// Small pieces the RuntimeService's files share.

#include <cstdint>
#include <string>

#include "common/error.h"

namespace berth::cri {

// 64 random hex digits: sandbox and container ids, as containerd makes them.
std::string RandomId();
// Wall clock in unix nanoseconds: CRI's timestamps.
int64_t NowNs();
// cgroup_parent + "/" + id ("/berth-pods" when the parent is empty).
std::string CgroupsPathFor(const std::string& parent, const std::string& id);
// The rootfs of every pause container: berth-pause at /pause, mount points.
Status PreparePauseRootfs(const std::string& rootfs, const std::string& pause_binary);

}  // namespace berth::cri
