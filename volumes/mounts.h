#pragma once
// The mounts volumes make (tmpfs for memory-backed volumes) and the view of
// /proc/self/mountinfo that TearDown needs to find them again after a
// restart.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::volumes {

struct MountEntry {
  std::string mount_point;  // unescaped (mountinfo writes ' ' as \040)
  std::string fs_type;
  std::string source;
};

std::vector<MountEntry> ParseMountInfo(std::string_view text);
Result<std::vector<MountEntry>> ReadMountInfo(const std::string& path = "/proc/self/mountinfo");

// Mount points equal to `dir` or below it, deepest first (the order to
// unmount them in). `dir` must be canonical (no symlinks), as the kernel
// reports mount points.
Result<std::vector<std::string>> MountPointsUnder(const std::string& dir);
Result<bool> IsMountPoint(const std::string& dir);
// Whether the filesystem holding `path` is a tmpfs (statfs).
Result<bool> IsTmpfs(const std::string& path);

// mount -t tmpfs -o size=<size_bytes> tmpfs <target>; size 0 leaves the
// kernel's default.
Status MountTmpfs(const std::string& target, int64_t size_bytes);
// umount(2); a busy mount is detached lazily instead (MNT_DETACH).
Status Unmount(const std::string& target);

}  // namespace berth::volumes
