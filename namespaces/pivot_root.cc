#include "namespaces/pivot_root.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/fd.h"
#include "namespaces/syscalls.h"

namespace berth::ns {

Status PivotRoot(const std::string& new_root) {
  UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!old_root) return Error::Sys("open", "/");
  UniqueFd new_root_fd(::open(new_root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!new_root_fd) return Error::Sys("open", new_root);
  if (::fchdir(new_root_fd.get()) != 0) return Error::Sys("fchdir", new_root);
  if (sys::PivotRoot(".", ".") != 0) return Error::Sys("pivot_root", new_root);
  // The old root is now stacked on "."; reach it through its fd.
  if (::fchdir(old_root.get()) != 0) return Error::Sys("fchdir", "old root");
  // Slave first so the unmount does not propagate back to the host.
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return Error::Sys("mount MS_SLAVE|MS_REC", "old root");
  }
  if (::umount2(".", MNT_DETACH) != 0) return Error::Sys("umount2 MNT_DETACH", "old root");
  if (::chdir("/") != 0) return Error::Sys("chdir", "/");
  return Ok();
}

Status MoveRoot(const std::string& new_root) {
  if (::chdir(new_root.c_str()) != 0) return Error::Sys("chdir", new_root);
  if (::mount(new_root.c_str(), "/", nullptr, MS_MOVE, nullptr) != 0) {
    return Error::Sys("mount MS_MOVE", new_root + " to /");
  }
  if (::chroot(".") != 0) return Error::Sys("chroot", new_root);
  if (::chdir("/") != 0) return Error::Sys("chdir", "/");
  return Ok();
}

}  // namespace berth::ns
