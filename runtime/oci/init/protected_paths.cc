// linux.readonlyPaths and linux.maskedPaths, applied after pivot_root: a
// read-only bind of each readonly path; /dev/null over each masked file and
// an empty read-only tmpfs over each masked directory. Missing paths are
// skipped, as the spec allows.

#include <sys/mount.h>

#include "runtime/oci/init/rootfs.h"

namespace berth::runtime::oci {

Status ProtectPaths(const InitPlan& plan) {
  const LinuxConfig& l = plan.spec->linux_config;
  for (const std::string& path : l.readonly_paths) {
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      return Error::Sys("mount", "bind readonly path " + path);
    }
    BERTH_TRY(BindRemount(path, MS_RDONLY | MS_REC, "readonly path " + path));
  }
  for (const std::string& path : l.masked_paths) {
    if (::mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr) == 0) continue;
    if (errno == ENOENT) continue;
    if (errno != ENOTDIR) return Error::Sys("mount", "mask " + path);
    // A directory is masked by an empty read-only tmpfs.
    BERTH_TRY(DoMount("tmpfs", path, "tmpfs", MS_RDONLY, "", "mask " + path));
  }
  return Ok();
}

}  // namespace berth::runtime::oci
