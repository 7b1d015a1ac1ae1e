#include "runtime/image/unpack/entry_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/file.h"
#include "runtime/image/unpack/beneath.h"
#include "runtime/image/unpack/entry_path.h"

namespace berth::image {
namespace {

ObjectRef Root(int root_fd) {
  return {root_fd, "", "."};
}

// A path that vanished, stopped being a directory, or now resolves through
// a symlink: a later member replaced it, so its deferred times are moot.
bool Replaced(const Error& e) {
  int err = e.sys_errno();
  return err == ENOENT || err == ENOTDIR || err == ELOOP ||
         (err == 0 && e.code() == Errc::kPermissionDenied);
}

}  // namespace

Status EntryWriter::InheritRoot() {
  if (lowers_.empty()) return Ok();
  std::optional<Lowers::Found> root = BERTH_TRY(lowers_.Lookup(""));
  if (!root) return Ok();
  EntryMeta meta = BERTH_TRY(ReadMeta(root->fd.get(), lowers_.dir(root->layer)));
  BERTH_TRY(ApplyMeta(Root(root_fd_), meta, false, true));
  dir_times_.emplace_back("", std::move(meta));
  return Ok();
}

Status EntryWriter::InheritDir(const std::string& path, int parent_fd, const std::string& name) {
  ObjectRef dir{parent_fd, name, path};
  std::optional<Lowers::Found> lower = BERTH_TRY(lowers_.Lookup(path));
  if (!lower || !S_ISDIR(lower->st.st_mode)) {
    // Nothing below to match: 0755 regardless of the umask.
    if (::fchmodat(parent_fd, name.c_str(), 0755, 0) != 0) return Error::Sys("chmod", path);
    return Ok();
  }
  EntryMeta meta = BERTH_TRY(ReadMeta(lower->fd.get(), lowers_.dir(lower->layer) + "/" + path));
  BERTH_TRY(ApplyMeta(dir, meta, false, true));
  dir_times_.emplace_back(path, std::move(meta));
  return Ok();
}

Result<UniqueFd> EntryWriter::EnsureDir(const std::string& path) {
  return MkdirAllBeneath(root_fd_, path,
                         [this](const std::string& prefix, int parent_fd, const std::string& name) {
                           return InheritDir(prefix, parent_fd, name);
                         });
}

Result<EntryWriter::Slot> EntryWriter::Prepare(const std::string& path, bool merge_dir) {
  auto [dir, name] = SplitParent(path);
  Slot slot;
  slot.parent = BERTH_TRY(EnsureDir(dir));
  slot.name = name;
  std::optional<struct stat> existing = BERTH_TRY(StatAt(slot.parent.get(), name, path));
  if (existing) {
    if (merge_dir && S_ISDIR(existing->st_mode)) {
      slot.is_dir = true;
    } else {
      BERTH_TRY(RemoveAllAt(slot.parent.get(), name, path));
    }
  }
  return slot;
}

Status EntryWriter::Directory(const std::string& path, const EntryMeta& meta) {
  if (path.empty()) {
    BERTH_TRY(ApplyMeta(Root(root_fd_), meta, false, true));
    dir_times_.emplace_back(path, meta);
    return Ok();
  }
  Slot slot = BERTH_TRY(Prepare(path, true));
  if (!slot.is_dir && ::mkdirat(slot.parent.get(), slot.name.c_str(), 0700) != 0) {
    return Error::Sys("mkdir", path);
  }
  BERTH_TRY(ApplyMeta({slot.parent.get(), slot.name, path}, meta, false, true));
  dir_times_.emplace_back(path, meta);
  return Ok();
}

Status EntryWriter::RegularFile(const std::string& path, const EntryMeta& meta, EntryData& data) {
  if (path.empty()) return Error(Errc::kInvalidArgument, "a file cannot replace the layer root");
  Slot slot = BERTH_TRY(Prepare(path, false));
  {
    UniqueFd fd(::openat(slot.parent.get(), slot.name.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return Error::Sys("create", path);
    BERTH_TRY(data.WriteTo(fd.get(), path));
    if (::close(fd.release()) != 0) return Error::Sys("close", path);
  }
  return ApplyMeta({slot.parent.get(), slot.name, path}, meta, false, false);
}

Status EntryWriter::Symlink(const std::string& path, const std::string& target,
                            const EntryMeta& meta) {
  if (path.empty()) return Error(Errc::kInvalidArgument, "a symlink cannot replace the layer root");
  Slot slot = BERTH_TRY(Prepare(path, false));
  if (::symlinkat(target.c_str(), slot.parent.get(), slot.name.c_str()) != 0) {
    return Error::Sys("symlink", path);
  }
  return ApplyMeta({slot.parent.get(), slot.name, path}, meta, true, false);
}

Status EntryWriter::Special(const std::string& path, mode_t type, dev_t rdev,
                            const EntryMeta& meta) {
  if (path.empty()) return Error(Errc::kInvalidArgument, "a device cannot replace the layer root");
  Slot slot = BERTH_TRY(Prepare(path, false));
  if (::mknodat(slot.parent.get(), slot.name.c_str(), type | 0600, rdev) != 0) {
    return Error::Sys("mknod", path);
  }
  return ApplyMeta({slot.parent.get(), slot.name, path}, meta, false, false);
}

Status EntryWriter::Hardlink(const std::string& path, const std::string& target) {
  Result<std::string> cleaned = CleanEntryPath(target);
  if (!cleaned.ok()) {
    return std::move(cleaned).error().Wrap("hard link target \"" + target + "\"");
  }
  const std::string& to = *cleaned;
  if (path.empty() || to.empty()) {
    return Error(Errc::kInvalidArgument, "hard link to or from the layer root");
  }
  if (to == path) return Error(Errc::kInvalidArgument, "hard link to itself");
  Slot slot = BERTH_TRY(Prepare(path, false));
  auto [to_dir, to_name] = SplitParent(to);
  const std::string what = "hard link target \"" + to + "\"";
  Result<UniqueFd> parent = OpenBeneath(root_fd_, to_dir, O_PATH | O_DIRECTORY, to_dir);
  std::optional<struct stat> st;
  if (parent.ok()) {
    st = BERTH_TRY(StatAt(parent->get(), to_name, to));
  } else if (parent.error().sys_errno() != ENOENT) {
    return std::move(parent).error().Wrap(what);
  }
  if (!st) {
    // Not in this layer: copy it up from the lowers (overlayfs cannot link
    // across layers), then link to the copy.
    std::optional<Lowers::Found> lower = BERTH_TRY(lowers_.Lookup(to));
    if (!lower || S_ISDIR(lower->st.st_mode)) {
      return Error(Errc::kNotFound, what + " is neither in this layer nor in its parents");
    }
    parent = BERTH_TRY_CTX(EnsureDir(to_dir), what);
    BERTH_TRY_CTX(CopyUpObject(*lower, parent->get(), to_name, to), "copy up " + what);
  } else if (S_ISDIR(st->st_mode)) {
    return Error(Errc::kInvalidArgument, what + " is a directory");
  }
  if (::linkat(parent->get(), to_name.c_str(), slot.parent.get(), slot.name.c_str(), 0) != 0) {
    return Error::Sys("link", to + " to " + path);
  }
  return Ok();
}

Status EntryWriter::Whiteout(const std::string& path, uid_t uid, gid_t gid) {
  Slot slot = BERTH_TRY(Prepare(path, false));
  if (::mknodat(slot.parent.get(), slot.name.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
    return Error::Sys("mknod whiteout", path);
  }
  if (::fchownat(slot.parent.get(), slot.name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::Sys("lchown", path);
  }
  return Ok();
}

Status EntryWriter::Opaque(const std::string& dir) {
  UniqueFd fd = BERTH_TRY(EnsureDir(dir));
  std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
  if (::setxattr(proc.c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
    return Error::Sys("setxattr trusted.overlay.opaque", dir.empty() ? "." : dir);
  }
  return Ok();
}

Status EntryWriter::Finish() {
  for (const auto& [path, meta] : dir_times_) {
    if (path.empty()) {
      BERTH_TRY(SetTimes(Root(root_fd_), meta));
      continue;
    }
    auto [dir, name] = SplitParent(path);
    Result<UniqueFd> parent = OpenBeneath(root_fd_, dir, O_PATH | O_DIRECTORY, dir);
    if (!parent.ok()) {
      if (Replaced(parent.error())) continue;
      return std::move(parent).error();
    }
    std::optional<struct stat> st = BERTH_TRY(StatAt(parent->get(), name, path));
    if (!st || !S_ISDIR(st->st_mode)) continue;
    BERTH_TRY(SetTimes({parent->get(), name, path}, meta));
  }
  dir_times_.clear();
  return Ok();
}

}  // namespace berth::image
