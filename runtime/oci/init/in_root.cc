#include "runtime/oci/init/in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/file.h"
#include "common/strings.h"

namespace berth::runtime::oci {

Result<UniqueFd> OpenInRoot(int root_fd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string rel = CleanPath("/" + path);
  rel = rel == "/" ? "." : rel.substr(1);
  while (true) {
    long fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != EINTR && errno != EAGAIN) return Error::Sys("openat2", path);
  }
}

Result<UniqueFd> MkdirAllInRoot(int root_fd, const std::string& path, mode_t mode) {
  std::string prefix;
  UniqueFd current = BERTH_TRY(OpenInRoot(root_fd, "/", O_PATH | O_DIRECTORY));
  for (const std::string& part : SplitNonEmpty(CleanPath("/" + path), '/')) {
    prefix += "/" + part;
    Result<UniqueFd> next = OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY);
    if (!next.ok() && next.error().sys_errno() == ENOENT) {
      // Create it in the directory resolved so far, then resolve again so a
      // racing symlink swap is still confined to the root.
      if (::mkdirat(current.get(), part.c_str(), mode) != 0 && errno != EEXIST) {
        return Error::Sys("mkdir", prefix);
      }
      next = OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY);
    }
    if (!next.ok()) return std::move(next).error();
    current = std::move(next).value();
  }
  return current;
}

Result<UniqueFd> EnsureFileInRoot(int root_fd, const std::string& path) {
  Result<UniqueFd> existing = OpenInRoot(root_fd, path, O_PATH);
  if (existing.ok()) return existing;
  if (existing.error().sys_errno() != ENOENT) return std::move(existing).error();
  UniqueFd dir = BERTH_TRY(MkdirAllInRoot(root_fd, Dirname(CleanPath("/" + path))));
  std::string name = Basename(path);
  int fd = ::openat(dir.get(), name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno != EEXIST) return Error::Sys("create", path);
  if (fd >= 0) ::close(fd);
  return OpenInRoot(root_fd, path, O_PATH);
}

std::string FdPath(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace berth::runtime::oci
