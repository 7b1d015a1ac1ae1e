#include "namespaces/pinned_netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <thread>

#include "common/fd.h"

namespace berth::ns {

Status CreatePinnedNetns(const std::string& path) {
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!file) return Error::Sys("create", path);
  file.reset();
  std::optional<Error> failed;
  std::thread helper([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      failed = Error::Sys("unshare CLONE_NEWNET", path);
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      failed = Error::Sys("mount --bind /proc/thread-self/ns/net", path);
    }
  });
  helper.join();
  if (failed) {
    ::unlink(path.c_str());
    return std::move(*failed);
  }
  return Ok();
}

Status RemovePinnedNetns(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Error::Sys("umount", path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error::Sys("unlink", path);
  return Ok();
}

bool IsPinnedNetns(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

}  // namespace berth::ns
