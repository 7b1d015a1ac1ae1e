#pragma once
// The cgroup v2 driver (internal to cgroups/; Open() returns it for a v2
// placement). One directory in the unified hierarchy; controllers are
// enabled from the berth root down, never above it.

#include "cgroups/cgroups.h"
#include "cgroups/v2/controllers.h"

namespace berth::cgroups::v2 {

// `devices` installs the device filter; null = the real bpf(2) installer.
Result<DriverPtr> NewDriver(const Placement& placement, DeviceFilterInstallerPtr devices = nullptr);

}  // namespace berth::cgroups::v2
