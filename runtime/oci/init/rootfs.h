#pragma once
// Building the container's filesystem view inside its mount namespace, in
// runc's order: root propagation, the rootfs bind, every spec mount, /dev
// (devices, symlinks, ptmx), then pivot_root; after the console is set up,
// FinalizeRootfs applies the read-only remounts.

#include "common/error.h"
#include "common/fd.h"
#include "runtime/oci/init/init_plan.h"

namespace berth::runtime::oci {

// Before pivot_root: returns an O_PATH fd of the prepared rootfs.
Result<UniqueFd> PrepareRootfs(const InitPlan& plan);
Status EnterRootfs(const InitPlan& plan);
// After pivot_root and the console: /dev read-only if asked, the read-only
// root, and the root propagation the spec asked for.
Status FinalizeRootfs(const InitPlan& plan);

// One spec mount (mounts[index]) under the root fd.
Status MountEntry(const InitPlan& plan, int root_fd, size_t index);
// The cgroup filesystem view at `dest_fd` for mounts[index] of type cgroup.
Status MountCgroupFs(const InitPlan& plan, int root_fd, size_t index);
// Default devices, spec devices, /dev symlinks and /dev/ptmx.
Status SetupDev(const InitPlan& plan, int root_fd);
// linux.readonlyPaths and linux.maskedPaths, after pivot_root.
Status ProtectPaths(const InitPlan& plan);

// mount(2) wrapper whose error names the mount: "mount proc on /proc".
Status DoMount(const char* source, const std::string& target, const char* type, unsigned long flags,
               const std::string& data, const std::string& what);
// A bind remount adding `flags`; retried with the flags the kernel locks
// from the source mount (nosuid, nodev, noexec, atime) when it says EPERM.
Status BindRemount(const std::string& target, unsigned long flags, const std::string& what);

}  // namespace berth::runtime::oci
