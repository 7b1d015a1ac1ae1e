#include "runtime/oci/init/copy_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/file.h"

namespace berth::runtime::oci {

Status CopyTree(int from, int to, const std::string& what) {
  Status status;
  for (const std::string& name : BERTH_TRY(ListDirAt(from, what))) {
    struct stat st {};
    if (::fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::string path = what + "/" + name;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, name.c_str(), st.st_mode & 07777) != 0) {
        status = Error::Sys("mkdir", path);
        break;
      }
      UniqueFd src(::openat(from, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      UniqueFd dst(::openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      if (!src || !dst) {
        status = Error::Sys("open", path);
        break;
      }
      status = CopyTree(src.get(), dst.get(), path);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlinkat(from, name.c_str(), target, sizeof target - 1);
      if (n < 0 ||
          ::symlinkat(std::string(target, static_cast<size_t>(n)).c_str(), to, name.c_str()) != 0) {
        status = Error::Sys("symlink", path);
      }
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd src(::openat(from, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      UniqueFd dst(
          ::openat(to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777));
      if (!src || !dst) {
        status = Error::Sys("open", path);
        break;
      }
      char buf[65536];
      ssize_t n;
      while ((n = ::read(src.get(), buf, sizeof buf)) > 0) {
        if (::write(dst.get(), buf, static_cast<size_t>(n)) != n) {
          status = Error::Sys("write", path);
          break;
        }
      }
    } else {
      continue;  // device nodes, sockets and fifos are not copied up
    }
    if (!status.ok()) break;
    (void)::fchownat(to, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  }
  return status;
}

}  // namespace berth::runtime::oci
