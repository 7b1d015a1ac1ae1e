#pragma once
// The mounts of a CRI container's config.json, assembled as containerd's
// WithMounts does:
//   1. the CRI mounts, plus the sandbox's files (/etc/hostname, /etc/hosts,
//      /etc/resolv.conf, /dev/shm) unless a CRI mount has the same
//      destination; stably sorted by depth so a parent never hides a child;
//   2. before them, the runtime defaults (/proc, /dev, /dev/pts, /dev/shm,
//      /dev/mqueue, /sys read-only, /sys/fs/cgroup read-only), minus any
//      destination a mount of step 1 covers (all of /dev/* when /dev is);
//   3. each mount of step 1 as a bind: "rbind", its propagation (rprivate,
//      rslave, rshared), "ro"/"rw" ("rro" for recursive_read_only).
// rslave/rshared mounts make the rootfs rslave/rshared (linux.rootfsPropagation).
// Privileged containers get /sys and /sys/fs/cgroup read-write.

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

// The runtime's default mounts; `cgroup` adds /sys/fs/cgroup (containers).
std::vector<boost::json::object> DefaultMounts(bool cgroup, bool privileged);

struct MountPlan {
  boost::json::array mounts;
  std::string rootfs_propagation;  // "" (runtime default, rprivate), rslave or rshared
};

// `extra`: the sandbox's files as CRI mounts (dropped where `config` has
// its own mount at the same destination).
Result<MountPlan> PlanContainerMounts(const ::runtime::v1::ContainerConfig& config,
                                      const std::vector<::runtime::v1::Mount>& extra,
                                      bool privileged);

// The defaults with `binds` (destination, source) bound read-only over them.
boost::json::array SandboxMounts(const std::vector<std::pair<std::string, std::string>>& binds);

}  // namespace berth::cri
