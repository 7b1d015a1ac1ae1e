// One entry of config.json "mounts" inside the container's rootfs.

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "runtime/oci/init/copy_tree.h"
#include "runtime/oci/init/in_root.h"
#include "runtime/oci/init/rootfs.h"
#include "runtime/oci/mount_options.h"

namespace berth::runtime::oci {
namespace {

// Paths under /proc that may be overmounted: what lxcfs emulates (runc's
// list). Anything else there could hide a kernel interface from checks.
constexpr const char* kProcOvermountable[] = {"/proc/cpuinfo", "/proc/diskstats",
                                              "/proc/meminfo", "/proc/stat",
                                              "/proc/swaps",   "/proc/uptime",
                                              "/proc/loadavg", "/proc/slabinfo",
                                              "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};

struct Target {
  const InitPlan& plan;
  const Mount& mount;
  std::string dest;   // clean absolute container path
  std::string field;  // "mounts[3]"
  std::string what;   // "tmpfs on /dev"
};

bool IsProcFs(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == PROC_SUPER_MAGIC;
}

Status CheckProcMount(const Target& t) {
  if (t.dest != "/proc" && !t.dest.starts_with("/proc/")) return Ok();
  if (t.dest == "/proc") {
    if (IsProcFs(t.mount.source)) return Ok();
    return Error(Errc::kInvalidArgument,
                 t.field + ": \"" + t.mount.source +
                     "\" cannot be mounted on /proc because it is not of type proc");
  }
  for (const char* allowed : kProcOvermountable) {
    if (t.dest == allowed) return Ok();
  }
  return Error(Errc::kInvalidArgument,
               t.field + ": \"" + t.dest + "\" cannot be mounted because it is inside /proc");
}

// Reopens the destination after mounting: the fd taken before the mount
// points below it, the remount and propagation must hit the new mount.
Result<UniqueFd> Reopen(int root_fd, const Target& t) {
  return OpenInRoot(root_fd, t.dest, O_PATH);
}

Status ApplyPropagationAndAttrs(int root_fd, const Target& t, const MountOptions& opts) {
  if (opts.propagation.empty() && !opts.recursive_attrs) return Ok();
  UniqueFd top = BERTH_TRY(Reopen(root_fd, t));
  for (unsigned long p : opts.propagation) {
    BERTH_TRY(DoMount(nullptr, FdPath(top.get()), nullptr, p, "", "propagation of " + t.what));
  }
  if (opts.recursive_attrs) {
    mount_attr attr{};
    attr.attr_set = opts.attr_set;
    attr.attr_clr = opts.attr_clr;
    if (::syscall(SYS_mount_setattr, top.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                  sizeof attr) != 0) {
      return Error::Sys("mount_setattr", t.what);
    }
  }
  return Ok();
}

Status MountBind(int root_fd, const Target& t, const MountOptions& opts) {
  struct stat st {};
  if (::stat(t.mount.source.c_str(), &st) != 0) {
    return Error::Sys("stat", t.mount.source).Wrap(t.field + ": bind source");
  }
  BERTH_TRY(CheckProcMount(t));
  UniqueFd dest = S_ISDIR(st.st_mode) ? BERTH_TRY(MkdirAllInRoot(root_fd, t.dest))
                                      : BERTH_TRY(EnsureFileInRoot(root_fd, t.dest));
  BERTH_TRY(DoMount(t.mount.source.c_str(), FdPath(dest.get()), nullptr,
                    MS_BIND | (opts.flags & MS_REC), "", t.what));
  if ((opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) != 0) {
    UniqueFd top = BERTH_TRY(Reopen(root_fd, t));
    BERTH_TRY(BindRemount(FdPath(top.get()), opts.flags, t.what));
  }
  return ApplyPropagationAndAttrs(root_fd, t, opts);
}

Status MountFilesystem(int root_fd, const Target& t, const MountOptions& opts) {
  const std::string& type = t.mount.type;
  unsigned long flags = opts.flags;
  // /dev is remounted read-only in FinalizeRootfs, after devices exist.
  if (t.dest == "/dev") flags &= ~MS_RDONLY;
  if (type != "proc" && type != "sysfs") BERTH_TRY(CheckProcMount(t));
  UniqueFd dest = BERTH_TRY(MkdirAllInRoot(root_fd, t.dest));
  UniqueFd below;
  if (opts.tmpcopyup) {
    below = UniqueFd(::openat(dest.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!below) return Error::Sys("open", t.dest);
  }
  const char* source = t.mount.source.empty() ? type.c_str() : t.mount.source.c_str();
  if (::mount(source, FdPath(dest.get()).c_str(), type.c_str(), flags,
              opts.data.empty() ? nullptr : opts.data.c_str()) != 0) {
    int err = errno;
    bool new_net = t.plan.new_net_ns, new_ipc = t.plan.new_ipc_ns;
    // Without its own network (ipc) namespace a container may not mount a
    // fresh sysfs (mqueue): runc binds the host's instead, read-only as asked.
    if (err == EPERM && type == "sysfs" && !new_net) {
      BERTH_TRY(DoMount("/sys", FdPath(dest.get()), nullptr, MS_BIND | MS_REC, "",
                        t.what + " (host /sys)"));
    } else if (err == EPERM && type == "mqueue" && !new_ipc) {
      BERTH_TRY(DoMount("/dev/mqueue", FdPath(dest.get()), nullptr, MS_BIND, "",
                        t.what + " (host mqueue)"));
    } else {
      return Error::Sys("mount", t.what, err);
    }
    if ((flags & ~(MS_REC | MS_BIND)) != 0) {
      UniqueFd top = BERTH_TRY(Reopen(root_fd, t));
      BERTH_TRY(BindRemount(FdPath(top.get()), flags, t.what));
    }
  }
  if (opts.tmpcopyup) {
    UniqueFd top = BERTH_TRY(Reopen(root_fd, t));
    UniqueFd dir(::openat(top.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return Error::Sys("open", t.dest);
    BERTH_TRY_CTX(CopyTree(below.get(), dir.get(), t.dest), t.field + ": tmpcopyup");
  }
  return ApplyPropagationAndAttrs(root_fd, t, opts);
}

}  // namespace

Status MountEntry(const InitPlan& plan, int root_fd, size_t index) {
  const Mount& m = plan.spec->mounts[index];
  std::string dest = m.destination;
  if (dest.empty() || dest[0] != '/') {
    BLOG(kWarn) << "mount destination " << dest << " is not absolute; using /" << dest;
    dest = "/" + dest;
  }
  Target t{plan, m, CleanPath(dest), "mounts[" + std::to_string(index) + "]", ""};
  t.what = (m.type.empty() ? "bind" : m.type) + " on " + t.dest;
  MountOptions opts = ParseMountOptions(m.options);
  Status s;
  if (m.type == "cgroup" || m.type == "cgroup2") {
    s = MountCgroupFs(plan, root_fd, index);
  } else if (m.type == "bind" || opts.bind()) {
    opts.flags |= MS_BIND;
    s = MountBind(root_fd, t, opts);
  } else {
    s = MountFilesystem(root_fd, t, opts);
  }
  if (!s.ok()) return std::move(s).error().Wrap(t.field + " (" + t.what + ")");
  return Ok();
}

}  // namespace berth::runtime::oci
