#include "volumes/remove_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/file.h"

namespace berth::volumes {
namespace {

Status RemoveAt(int parent_fd, const std::string& name, const std::string& display, dev_t device) {
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return Error::Sys("lstat", display);
  }
  if (st.st_dev != device) {
    return Error(Errc::kFailedPrecondition, "refusing to remove " + display +
                                                ": it is on another filesystem (still mounted?)");
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd dir(
        ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) return Error::Sys("open", display);
    for (const std::string& child : BERTH_TRY(ListDirAt(dir.get(), display))) {
      BERTH_TRY(RemoveAt(dir.get(), child, display + "/" + child, device));
    }
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Error::Sys("rmdir", display);
    }
    return Ok();
  }
  if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return Error::Sys("unlink", display);
  }
  return Ok();
}

}  // namespace

Status RemoveTreeOnOneFilesystem(const std::string& parent, const std::string& name) {
  UniqueFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd) {
    if (errno == ENOENT) return Ok();
    return Error::Sys("open", parent);
  }
  std::string display = PathJoin(parent, name);
  struct stat st {};
  if (::fstatat(parent_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return Error::Sys("lstat", display);
  }
  return RemoveAt(parent_fd.get(), name, display, st.st_dev);
}

}  // namespace berth::volumes
