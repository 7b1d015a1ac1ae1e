#pragma once
// Ownership, extended attributes, permission bits and timestamps of one
// unpacked object, applied in the order that keeps each of them: lchown
// first (it clears setuid/setgid and security.capability), then xattrs,
// then the mode (setuid, setgid and sticky bits included; never on a
// symlink, where chmod would follow it), then times. Directory times are
// applied by the caller after the directory's content.
//
// Xattr policy (containerd's applier, plus overlay safety):
//  - trusted.overlay.* and user.overlay.* from a layer are dropped with a
//    warning: they are overlayfs's own metadata (opaque, redirect,
//    metacopy, origin) and would let a layer steer how the kernel merges
//    the snapshots.
//  - ENOTSUP/EOPNOTSUPP (the filesystem has no such namespace, e.g.
//    security.selinux without SELinux) is a warning, for any name.
//  - EPERM/EACCES for security.* is a warning (an LSM refused it).
//  - any other failure fails the entry.

#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::image {

struct EntryMeta {
  mode_t mode = 0;  // permission bits incl. 07000; the type comes from the call
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<timespec> mtime;
  std::optional<timespec> atime;  // mtime when the archive has none
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// Where an object is: `name` in directory `dir_fd`, or, with an empty name,
// `dir_fd` itself (which must then be a real fd, not O_PATH).
struct ObjectRef {
  int dir_fd = -1;
  std::string name;
  std::string what;  // entry path, for errors
};

// What the xattr policy does with a name from a layer.
bool IsOverlayPrivateXattr(const std::string& name);
// Whether a failure to set xattr `name` with `err` is only a warning.
bool XattrFailureIsWarning(const std::string& name, int err);

// Applies owner, xattrs and mode; times unless `defer_times` (directories).
// `is_symlink` skips chmod.
Status ApplyMeta(const ObjectRef& obj, const EntryMeta& meta, bool is_symlink, bool defer_times);

Status SetTimes(const ObjectRef& obj, const EntryMeta& meta);

// Reads owner, mode, times and xattrs (minus overlayfs's own) of the
// object behind `from_fd` (O_PATH is fine; symlinks yield no xattrs): the
// metadata copied up from a lower snapshot.
Result<EntryMeta> ReadMeta(int from_fd, const std::string& what);

}  // namespace berth::image
