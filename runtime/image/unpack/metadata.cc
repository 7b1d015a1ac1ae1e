#include "runtime/image/unpack/metadata.h"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "common/log.h"
#include "common/strings.h"
#include "runtime/image/unpack/beneath.h"

namespace berth::image {
namespace {

Status Chown(const ObjectRef& obj, uid_t uid, gid_t gid) {
  int rc = obj.name.empty()
               ? ::fchown(obj.dir_fd, uid, gid)
               : ::fchownat(obj.dir_fd, obj.name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) {
    return Error::Sys("lchown",
                      obj.what + " to " + std::to_string(uid) + ":" + std::to_string(gid));
  }
  return Ok();
}

Status Chmod(const ObjectRef& obj, mode_t mode) {
  // fchmodat cannot take AT_SYMLINK_NOFOLLOW; callers never pass symlinks,
  // and `name` is an object this applier just created or checked.
  int rc = obj.name.empty() ? ::fchmod(obj.dir_fd, mode)
                            : ::fchmodat(obj.dir_fd, obj.name.c_str(), mode, 0);
  if (rc != 0) return Error::Sys("chmod", obj.what);
  return Ok();
}

Status SetXattr(const ObjectRef& obj, const std::string& name, const std::string& value) {
  if (IsOverlayPrivateXattr(name)) {
    BLOG(kWarn) << "ignoring overlayfs xattr " << name << " on " << obj.what;
    return Ok();
  }
  int rc = obj.name.empty() ? ::fsetxattr(obj.dir_fd, name.c_str(), value.data(), value.size(), 0)
                            : ::lsetxattr(FdChildPath(obj.dir_fd, obj.name).c_str(), name.c_str(),
                                          value.data(), value.size(), 0);
  if (rc == 0) return Ok();
  if (XattrFailureIsWarning(name, errno)) {
    BLOG(kWarn) << "ignoring xattr " << name << " on " << obj.what << ": " << strerror(errno);
    return Ok();
  }
  return Error::Sys("setxattr " + name, obj.what);
}

}  // namespace

bool IsOverlayPrivateXattr(const std::string& name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

bool XattrFailureIsWarning(const std::string& name, int err) {
  if (err == ENOTSUP || err == EOPNOTSUPP) return true;
  return (err == EPERM || err == EACCES) && name.starts_with("security.");
}

Status SetTimes(const ObjectRef& obj, const EntryMeta& meta) {
  if (!meta.mtime) return Ok();
  timespec times[2] = {meta.atime.value_or(*meta.mtime), *meta.mtime};
  int rc = obj.name.empty() ? ::futimens(obj.dir_fd, times)
                            : ::utimensat(obj.dir_fd, obj.name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return Error::Sys("utimensat", obj.what);
  return Ok();
}

Status ApplyMeta(const ObjectRef& obj, const EntryMeta& meta, bool is_symlink, bool defer_times) {
  BERTH_TRY(Chown(obj, meta.uid, meta.gid));
  for (const auto& [name, value] : meta.xattrs)
    BERTH_TRY(SetXattr(obj, name, value));
  if (!is_symlink) BERTH_TRY(Chmod(obj, meta.mode & 07777));
  if (!defer_times) BERTH_TRY(SetTimes(obj, meta));
  return Ok();
}

Result<EntryMeta> ReadMeta(int from_fd, const std::string& what) {
  struct stat st {};
  if (::fstatat(from_fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::Sys("stat", what);
  }
  EntryMeta meta;
  meta.mode = st.st_mode & 07777;
  meta.uid = st.st_uid;
  meta.gid = st.st_gid;
  meta.mtime = st.st_mtim;
  meta.atime = st.st_atim;
  // Symlinks carry no xattrs worth copying (user.* is refused on them).
  if (S_ISLNK(st.st_mode)) return meta;
  // The *xattr calls refuse O_PATH fds; the fd's /proc magic link, followed,
  // reaches the object itself without opening it (a device stays closed).
  std::string path = "/proc/self/fd/" + std::to_string(from_fd);
  std::string names(4096, '\0');
  ssize_t n = 0;
  while ((n = ::listxattr(path.c_str(), names.data(), names.size())) < 0 && errno == ERANGE) {
    names.resize(names.size() * 4);
  }
  if (n < 0) {
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return meta;
    return Error::Sys("listxattr", what);
  }
  names.resize(static_cast<size_t>(n));
  for (const std::string& name : Split(names, '\0')) {
    if (name.empty() || IsOverlayPrivateXattr(name)) continue;
    std::string value(256, '\0');
    ssize_t len = 0;
    while ((len = ::getxattr(path.c_str(), name.c_str(), value.data(), value.size())) < 0 &&
           errno == ERANGE) {
      value.resize(value.size() * 4);
    }
    if (len < 0) {
      if (errno == ENODATA) continue;
      return Error::Sys("getxattr " + name, what);
    }
    value.resize(static_cast<size_t>(len));
    meta.xattrs.emplace_back(name, std::move(value));
  }
  return meta;
}

}  // namespace berth::image
