// /dev inside the container when it is not bind-mounted from the host: the
// default devices every OCI container gets (config-linux.md "Default
// Devices"), linux.devices, the standard symlinks and /dev/ptmx.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/file.h"
#include "runtime/oci/init/in_root.h"
#include "runtime/oci/init/rootfs.h"

namespace berth::runtime::oci {
namespace {

std::vector<Device> DefaultDevices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    Device d;
    d.path = path;
    d.type = 'c';
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    d.uid = 0;
    d.gid = 0;
    return d;
  };
  return {dev("/dev/null", 1, 3),   dev("/dev/zero", 1, 5),    dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8), dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

// Spec devices override defaults with the same path.
std::vector<Device> DevicesToCreate(const Spec& spec) {
  std::vector<Device> out;
  for (const Device& d : DefaultDevices()) {
    bool overridden = false;
    for (const Device& s : spec.linux_config.devices)
      overridden = overridden || s.path == d.path;
    if (!overridden) out.push_back(d);
  }
  for (const Device& s : spec.linux_config.devices)
    out.push_back(s);
  return out;
}

mode_t DeviceTypeBits(char type) {
  switch (type) {
    case 'b':
      return S_IFBLK;
    case 'p':
      return S_IFIFO;
    default:
      return S_IFCHR;  // 'c' and 'u'
  }
}

Status BindHostDevice(int root_fd, const Device& d) {
  UniqueFd target = BERTH_TRY(EnsureFileInRoot(root_fd, d.path));
  return DoMount(d.path.c_str(), FdPath(target.get()), nullptr, MS_BIND, "",
                 "bind device " + d.path);
}

Status CreateDevice(const InitPlan& plan, int root_fd, const Device& d) {
  // Without CAP_MKNOD in the init user namespace, device nodes cannot be
  // made: bind the host's node instead (runc does the same).
  if (plan.new_user_ns) return BindHostDevice(root_fd, d);
  UniqueFd dir = BERTH_TRY(MkdirAllInRoot(root_fd, Dirname(d.path)));
  std::string name = Basename(d.path);
  mode_t mode = DeviceTypeBits(d.type) | (d.file_mode.value_or(0666) & 07777);
  dev_t num = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  if (::mknodat(dir.get(), name.c_str(), mode, num) != 0) {
    if (errno == EEXIST) {
      ::unlinkat(dir.get(), name.c_str(), 0);
      if (::mknodat(dir.get(), name.c_str(), mode, num) == 0) goto made;
    }
    if (errno == EPERM) return BindHostDevice(root_fd, d);
    return Error::Sys("mknod", d.path);
  }
made:
  // mknod applies the umask; set the exact mode and owner asked for.
  if (::fchmodat(dir.get(), name.c_str(), mode & 07777, 0) != 0) return Error::Sys("chmod", d.path);
  if (::fchownat(dir.get(), name.c_str(), d.uid.value_or(0), d.gid.value_or(0),
                 AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::Sys("chown", d.path);
  }
  return Ok();
}

Status Symlink(int dev_fd, const char* target, const char* name) {
  if (::symlinkat(target, dev_fd, name) != 0 && errno != EEXIST) {
    return Error::Sys("symlink", std::string("/dev/") + name + " -> " + target);
  }
  return Ok();
}

}  // namespace

Status SetupDev(const InitPlan& plan, int root_fd) {
  for (const Device& d : DevicesToCreate(*plan.spec)) {
    BERTH_TRY_CTX(CreateDevice(plan, root_fd, d), "create device " + d.path);
  }
  UniqueFd dev = BERTH_TRY(MkdirAllInRoot(root_fd, "/dev"));
  BERTH_TRY(Symlink(dev.get(), "/proc/self/fd", "fd"));
  BERTH_TRY(Symlink(dev.get(), "/proc/self/fd/0", "stdin"));
  BERTH_TRY(Symlink(dev.get(), "/proc/self/fd/1", "stdout"));
  BERTH_TRY(Symlink(dev.get(), "/proc/self/fd/2", "stderr"));
  if (PathExists("/proc/kcore")) BERTH_TRY(Symlink(dev.get(), "/proc/kcore", "core"));
  // The container's ptys come from its own devpts instance.
  if (::unlinkat(dev.get(), "ptmx", 0) != 0 && errno != ENOENT)
    return Error::Sys("unlink", "/dev/ptmx");
  return Symlink(dev.get(), "pts/ptmx", "ptmx");
}

}  // namespace berth::runtime::oci
