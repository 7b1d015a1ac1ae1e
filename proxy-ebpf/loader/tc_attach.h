#pragma once
// berth's sched_cls filters on a device's clsact ingress and egress hooks
// (netlink tc, so kernels before tcx links work). A filter is identified
// by berth's fixed handle and priority: attaching again replaces the
// program in place (a restarted proxy never leaves a gap), and detaching
// removes only berth's filter, never another user's.

#include <string>

#include "common/error.h"

namespace berth::proxy {

inline constexpr uint32_t kTcHandle = 0xbe47;
inline constexpr uint32_t kTcPriority = 0xbe;

// The ifindex of `name`; kNotFound naming the device.
Result<int> DeviceIndex(const std::string& name);

// Adds the clsact qdisc when missing and sets berth's ingress and egress
// filters of `ifindex` to the given programs.
Status AttachTc(int ifindex, const std::string& device, int ingress_fd, int egress_fd);

// Removes berth's two filters; a device or filter that is gone is fine.
Status DetachTc(int ifindex);

}  // namespace berth::proxy
