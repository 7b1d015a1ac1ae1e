#pragma once
// OCI mount options -> mount(2) flags, propagation, mount_setattr(2)
// recursive attributes and filesystem data, with the option table runc
// documents in `runc features` (mountOptions).

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::runtime::oci {

struct MountOptions {
  unsigned long flags = 0;                 // MS_* to set
  std::vector<unsigned long> propagation;  // MS_PRIVATE|MS_REC ... applied in order
  uint64_t attr_set = 0, attr_clr = 0;     // MOUNT_ATTR_* applied recursively
  bool recursive_attrs = false;
  bool tmpcopyup = false;
  std::string data;  // comma-joined options the filesystem interprets

  bool bind() const;
};

// Unknown options are filesystem data ("mode=755", "size=64k").
MountOptions ParseMountOptions(const std::vector<std::string>& options);
// Every option name the table knows, for `features`.
std::vector<std::string> KnownMountOptions();

}  // namespace berth::runtime::oci
