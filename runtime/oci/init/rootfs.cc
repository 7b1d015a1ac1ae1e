#include "runtime/oci/init/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"
#include "namespaces/pivot_root.h"
#include "runtime/oci/init/in_root.h"
#include "runtime/oci/mount_options.h"

namespace berth::runtime::oci {
namespace {

unsigned long RootPropagationFlags(const std::string& prop) {
  if (prop.empty()) return 0;
  MountOptions opts = ParseMountOptions({prop});
  return opts.propagation.empty() ? 0 : opts.propagation.front();
}

// pivot_root(2) refuses a new root whose parent mount is shared; with a
// shared root propagation the parent of the rootfs must be made private.
Status MakeParentMountPrivate(const std::string& rootfs) {
  std::string mountinfo = BERTH_TRY(ReadFile("/proc/self/mountinfo"));
  std::string parent = Dirname(rootfs), best = "/";
  for (const std::string& line : Split(mountinfo, '\n')) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.size() < 5) continue;
    const std::string& mp = f[4];
    bool contains = parent == mp || mp == "/" || parent.starts_with(mp + "/");
    if (contains && mp.size() > best.size()) best = mp;
  }
  return DoMount(nullptr, best, nullptr, MS_PRIVATE, "", "make " + best + " private");
}

bool DevIsBindMounted(const Spec& spec) {
  for (const Mount& m : spec.mounts) {
    if (CleanPath(m.destination) == "/dev" &&
        (m.type == "bind" || ParseMountOptions(m.options).bind())) {
      return true;
    }
  }
  return false;
}

const Mount* FindDevMount(const Spec& spec) {
  for (const Mount& m : spec.mounts) {
    if (CleanPath(m.destination) == "/dev") return &m;
  }
  return nullptr;
}

unsigned long LockedFlags(const std::string& target) {
  struct statvfs st {};
  if (::statvfs(target.c_str(), &st) != 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

}  // namespace

Status DoMount(const char* source, const std::string& target, const char* type, unsigned long flags,
               const std::string& data, const std::string& what) {
  if (::mount(source, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0) {
    return Error::Sys("mount", what);
  }
  return Ok();
}

Status BindRemount(const std::string& target, unsigned long flags, const std::string& what) {
  unsigned long base = MS_BIND | MS_REMOUNT | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT));
  if (::mount(nullptr, target.c_str(), nullptr, base, nullptr) == 0) return Ok();
  if (errno != EPERM) return Error::Sys("mount", "remount " + what);
  // In a user namespace the kernel refuses to drop flags locked by the
  // source mount; keep them and try again.
  if (::mount(nullptr, target.c_str(), nullptr, base | LockedFlags(target), nullptr) != 0) {
    return Error::Sys("mount", "remount " + what);
  }
  return Ok();
}

Result<UniqueFd> PrepareRootfs(const InitPlan& plan) {
  const Spec& spec = *plan.spec;
  unsigned long prop = RootPropagationFlags(spec.linux_config.rootfs_propagation);
  BERTH_TRY(DoMount(nullptr, "/", nullptr, prop != 0 ? prop : MS_SLAVE | MS_REC, "",
                    "set propagation of /"));
  if ((prop & MS_SHARED) != 0) BERTH_TRY(MakeParentMountPrivate(plan.rootfs));
  BERTH_TRY(DoMount(plan.rootfs.c_str(), plan.rootfs, nullptr, MS_BIND | MS_REC, "",
                    "bind rootfs " + plan.rootfs));
  UniqueFd root_fd(::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return Error::Sys("open", plan.rootfs);
  for (size_t i = 0; i < spec.mounts.size(); ++i)
    BERTH_TRY(MountEntry(plan, root_fd.get(), i));
  if (!DevIsBindMounted(spec)) BERTH_TRY(SetupDev(plan, root_fd.get()));
  // runc creates the working directory so images without it still start.
  BERTH_TRY_CTX(MkdirAllInRoot(root_fd.get(), plan.process->cwd), "create cwd");
  return root_fd;
}

Status EnterRootfs(const InitPlan& plan) {
  if (plan.no_pivot) return ns::MoveRoot(plan.rootfs);
  return ns::PivotRoot(plan.rootfs);
}

Status FinalizeRootfs(const InitPlan& plan) {
  const Spec& spec = *plan.spec;
  // /dev was mounted writable so devices could be created; honour "ro" now.
  const Mount* dev = FindDevMount(spec);
  if (dev != nullptr && !DevIsBindMounted(spec) &&
      (ParseMountOptions(dev->options).flags & MS_RDONLY)) {
    BERTH_TRY(BindRemount("/dev", MS_RDONLY, "/dev read-only"));
  }
  if (spec.root_readonly) BERTH_TRY(BindRemount("/", MS_RDONLY, "rootfs read-only"));
  unsigned long prop = RootPropagationFlags(spec.linux_config.rootfs_propagation);
  if (prop != 0) BERTH_TRY(DoMount(nullptr, "/", nullptr, prop, "", "rootfsPropagation on /"));
  return Ok();
}

}  // namespace berth::runtime::oci
