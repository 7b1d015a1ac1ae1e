#pragma once
// What the eBPF dataplane needs from the host, checked before anything is
// loaded so that a start on an unfit host fails with the missing piece
// named (not with a verifier or attach errno).

#include <string>
#include <vector>

#include "common/error.h"

namespace berth::proxy {

// The oldest kernel with every hook and helper berth uses (cgroup
// getpeername hooks, bpf_set_retval from sock_addr programs).
inline constexpr int kMinKernelMajor = 5;
inline constexpr int kMinKernelMinor = 19;

// kFailedPrecondition naming what is missing: CAP_BPF/CAP_SYS_ADMIN, the
// kernel release, kernel BTF, a cgroup2 mount, each of `cgroups` being a
// cgroup v2 directory.
Status CheckRequirements(const std::vector<std::string>& cgroups);

// Makes `pin_dir` (and its parents) on a BPF filesystem. When the pin
// root is the standard /sys/fs/bpf and nothing is mounted there, mounts
// bpffs on it, as systemd would.
Status PreparePinDir(const std::string& pin_dir);

}  // namespace berth::proxy
