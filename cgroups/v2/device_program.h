#pragma once
// The BPF_PROG_TYPE_CGROUP_DEVICE program that enforces a device rule set on
// cgroup v2 (internal to cgroups/). Generated as raw instructions, as crun's
// ebpf.c and runc's devicefilter do; no libbpf.
//
// The kernel calls it with struct bpf_cgroup_dev_ctx in R1:
//   u32 access_type   device type (BPF_DEVCG_DEV_BLOCK/CHAR) in the low 16
//                     bits, access (BPF_DEVCG_ACC_MKNOD/READ/WRITE) above
//   u32 major, minor
// and allows the access when it returns 1. The program tests the emulated
// exceptions in order (first match decides), then returns the default.

#include <linux/bpf.h>

#include <vector>

#include "cgroups/device_rules.h"
#include "common/error.h"

namespace berth::cgroups::v2 {

using BpfProgram = std::vector<bpf_insn>;

Result<BpfProgram> DeviceProgram(const DeviceEmulator& rules);

// The license string the program is loaded with. BPF_CGROUP_DEVICE programs
// call no GPL-only helpers, so any string works; runc uses "Apache".
inline constexpr const char* kDeviceProgramLicense = "Apache";

}  // namespace berth::cgroups::v2
