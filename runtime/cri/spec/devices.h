#pragma once
// linux.devices and their device-cgroup rules, from CRI Device entries
// (host_path -> container_path, permissions) and, for privileged
// containers, every device node under the host's /dev, as containerd's
// oci.WithDevices / oci.WithHostDevices find them: a directory is walked
// (pts, shm, fd, mqueue, .lxc, .lxd-mounts, .udev and console left out),
// non-device files are skipped, symlinks are not followed inside a walk.

#include <sys/types.h>

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::cri {

struct DeviceNode {
  std::string path;  // inside the container
  char type = 'c';   // 'c' or 'b'
  int64_t major = 0, minor = 0;
  uint32_t file_mode = 0;  // permission bits
  uint32_t uid = 0, gid = 0;
};

// `host_path` a device node (symlinks followed) or a directory of them;
// `container_path` where it (or the directory) appears. `field` names the
// CRI entry in errors.
Result<std::vector<DeviceNode>> DevicesFromPath(const std::string& host_path,
                                                const std::string& container_path,
                                                const std::string& field);
// Every device under `dir` (normally /dev), at the same path.
Result<std::vector<DeviceNode>> HostDevices(const std::string& dir);

boost::json::object DeviceJson(const DeviceNode& d);
// {"allow": true, "type": .., "major": .., "minor": .., "access": ..}
boost::json::object DeviceRuleJson(const DeviceNode& d, const std::string& access);

}  // namespace berth::cri
