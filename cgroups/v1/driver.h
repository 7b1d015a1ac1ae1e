#pragma once
// The cgroup v1 / hybrid driver (internal to cgroups/; Open() returns it for
// a v1 or hybrid placement). The container joins every mounted hierarchy,
// named ones such as name=systemd included, and in hybrid mode the unified
// hierarchy too (membership only), exactly as runc 1.1 places it.

#include "cgroups/cgroups.h"

namespace berth::cgroups::v1 {

Result<DriverPtr> NewDriver(const Placement& placement);

}  // namespace berth::cgroups::v1
