#include "proxy-ebpf/loader/requirements.h"

#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

#include "common/file.h"

namespace berth::proxy {
namespace {

constexpr const char* kBpffsRoot = "/sys/fs/bpf";

bool HasCapability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

bool OnFilesystem(const std::string& path, long magic) {
  struct statfs fs {};
  return statfs(path.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == magic;
}

Status CheckKernel() {
  utsname uts{};
  if (uname(&uts) != 0) return Error::Sys("uname");
  int major = 0;
  int minor = 0;
  if (sscanf(uts.release, "%d.%d", &major, &minor) != 2)
    return Error(Errc::kFailedPrecondition,
                 std::string("cannot read the kernel release `") + uts.release + "`");
  if (major < kMinKernelMajor || (major == kMinKernelMajor && minor < kMinKernelMinor))
    return Error(Errc::kFailedPrecondition,
                 std::string("kernel ") + uts.release + " is too old for berth's eBPF dataplane: " +
                     std::to_string(kMinKernelMajor) + "." + std::to_string(kMinKernelMinor) +
                     " or newer is needed (cgroup getpeername hooks, bpf_set_retval)");
  return {};
}

}  // namespace

Status CheckRequirements(const std::vector<std::string>& cgroups) {
  if (!HasCapability(CAP_BPF) && !HasCapability(CAP_SYS_ADMIN))
    return Error(Errc::kFailedPrecondition,
                 "berth proxy needs CAP_BPF (or CAP_SYS_ADMIN) to load its BPF programs, and the "
                 "process has neither");
  if (!HasCapability(CAP_NET_ADMIN) && !HasCapability(CAP_SYS_ADMIN))
    return Error(Errc::kFailedPrecondition,
                 "berth proxy needs CAP_NET_ADMIN (or CAP_SYS_ADMIN) to attach to cgroups and "
                 "interfaces, and the process has neither");
  if (Status kernel = CheckKernel(); !kernel.ok()) return kernel;
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return Error::Sys("access", "/sys/kernel/btf/vmlinux")
        .Wrap("kernel BTF is needed for CO-RE relocation (CONFIG_DEBUG_INFO_BTF)");
  if (cgroups.empty())
    return Error(Errc::kFailedPrecondition,
                 "no cgroup to attach the socket programs to (--cgroup-root)");
  for (const std::string& cgroup : cgroups) {
    struct stat st {};
    if (stat(cgroup.c_str(), &st) != 0)
      return Error::Sys("stat", cgroup).Wrap("cgroup to attach the socket programs to");
    if (!OnFilesystem(cgroup, CGROUP2_SUPER_MAGIC))
      return Error(Errc::kFailedPrecondition,
                   "`" + cgroup +
                       "` is not on a cgroup2 mount: socket load balancing attaches to cgroup v2 "
                       "(mount cgroup2, e.g. at /sys/fs/cgroup/unified on a hybrid host)");
  }
  return {};
}

Status PreparePinDir(const std::string& pin_dir) {
  if (pin_dir.empty() || pin_dir[0] != '/')
    return Error(Errc::kInvalidArgument, "pin directory `" + pin_dir + "` must be absolute");
  bool standard = pin_dir.rfind(std::string(kBpffsRoot) + "/", 0) == 0;
  if (standard && !OnFilesystem(kBpffsRoot, BPF_FS_MAGIC)) {
    if (mount("bpf", kBpffsRoot, "bpf", 0, "mode=0700") != 0)
      return Error::Sys("mount bpf", kBpffsRoot);
  }
  if (Status made = MkdirAll(pin_dir, 0700); !made.ok()) return made;
  if (!OnFilesystem(pin_dir, BPF_FS_MAGIC))
    return Error(Errc::kFailedPrecondition,
                 "pin directory `" + pin_dir + "` is not on a BPF filesystem (mount -t bpf)");
  return {};
}

}  // namespace berth::proxy
