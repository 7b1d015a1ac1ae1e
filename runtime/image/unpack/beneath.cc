#include "runtime/image/unpack/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/image/unpack/entry_path.h"

namespace berth::image {

Result<UniqueFd> OpenBeneath(int root_fd, const std::string& path, int flags,
                             const std::string& what) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const char* rel = path.empty() ? "." : path.c_str();
  while (true) {
    long fd = ::syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: a concurrent rename somewhere on the system; retry as the
    // openat2 man page advises.
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == EXDEV) {
      return Error(Errc::kPermissionDenied, "path escapes the layer through a symlink");
    }
    return Error::Sys("openat2", what);
  }
}

Result<UniqueFd> MkdirAllBeneath(int root_fd, const std::string& path,
                                 const OnCreateDir& on_create) {
  UniqueFd current = BERTH_TRY(OpenBeneath(root_fd, "", O_PATH | O_DIRECTORY, "."));
  std::string prefix;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    std::string name = path.substr(pos, slash - pos);
    pos = slash + 1;
    prefix = prefix.empty() ? name : prefix + "/" + name;
    Result<UniqueFd> next = OpenBeneath(root_fd, prefix, O_PATH | O_DIRECTORY, prefix);
    if (!next.ok() && next.error().sys_errno() == ENOENT) {
      if (::mkdirat(current.get(), name.c_str(), 0755) != 0) {
        if (errno != EEXIST) return Error::Sys("mkdir", prefix);
      } else if (on_create) {
        BERTH_TRY(on_create(prefix, current.get(), name));
      }
      next = OpenBeneath(root_fd, prefix, O_PATH | O_DIRECTORY, prefix);
    }
    if (!next.ok()) return std::move(next).error();
    current = std::move(next).value();
  }
  return current;
}

Result<std::optional<struct stat>> StatAt(int dir_fd, const std::string& name,
                                          const std::string& what) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return {st};
  if (errno == ENOENT) return std::optional<struct stat>();
  return Error::Sys("lstat", what);
}

bool IsWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

std::string FdChildPath(int dir_fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

}  // namespace berth::image
