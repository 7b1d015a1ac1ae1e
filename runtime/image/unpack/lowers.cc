#include "runtime/image/unpack/lowers.h"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>

#include "common/strings.h"
#include "runtime/image/unpack/beneath.h"
#include "runtime/image/unpack/metadata.h"

namespace berth::image {
namespace {

std::string ProcFd(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

Result<bool> IsOpaque(int dir_fd, const std::string& what) {
  std::array<char, 2> value{};
  ssize_t n =
      ::getxattr(ProcFd(dir_fd).c_str(), "trusted.overlay.opaque", value.data(), value.size());
  if (n >= 0) return n == 1 && value[0] == 'y';
  if (errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP || errno == ERANGE) {
    return false;
  }
  return Error::Sys("getxattr trusted.overlay.opaque", what);
}

Status CopyContent(int src_fd, int dst_fd, const std::string& what) {
  UniqueFd in(::open(ProcFd(src_fd).c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return Error::Sys("open", what + " (copy-up source)");
  while (true) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, dst_fd, nullptr, 1 << 30, 0);
    if (n == 0) return Ok();
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
      return Error::Sys("copy_file_range", what);
    }
    break;  // not supported here: plain copy (from the current offsets)
  }
  std::array<char, 1 << 16> buf{};
  while (true) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n == 0) return Ok();
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("read", what + " (copy-up source)");
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(dst_fd, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error::Sys("write", what);
      off += w;
    }
  }
}

}  // namespace

Result<Lowers> Lowers::Open(const std::vector<std::string>& dirs) {
  Lowers lowers;
  for (const std::string& dir : dirs) {
    UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return Error::Sys("open lower snapshot", dir);
    lowers.dirs_.push_back(dir);
    lowers.roots_.push_back(std::move(fd));
  }
  return lowers;
}

Result<Lowers::Verdict> Lowers::LookupIn(size_t layer, const std::string& path,
                                         Found* found) const {
  const std::string where = dirs_[layer] + "/" + path;
  UniqueFd dir(::fcntl(roots_[layer].get(), F_DUPFD_CLOEXEC, 0));
  if (!dir) return Error::Sys("dup", dirs_[layer]);
  bool opaque = BERTH_TRY(IsOpaque(dir.get(), dirs_[layer]));
  std::vector<std::string> parts = SplitNonEmpty(path, '/');
  auto absent = [&] { return opaque ? Verdict::kAbsentStopHere : Verdict::kAbsent; };
  // Walk without following anything: every step is a directory opened
  // O_NOFOLLOW beneath the previous one, so no lookup leaves the lower.
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    std::optional<struct stat> st = BERTH_TRY(StatAt(dir.get(), parts[i], where));
    if (!st) return absent();
    if (!S_ISDIR(st->st_mode)) return Verdict::kHidden;  // whiteout, file or symlink
    UniqueFd next(
        ::openat(dir.get(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return Error::Sys("open", where);
    dir = std::move(next);
    if (BERTH_TRY(IsOpaque(dir.get(), where))) opaque = true;
  }
  if (parts.empty()) {
    found->fd = std::move(dir);
  } else {
    std::optional<struct stat> st = BERTH_TRY(StatAt(dir.get(), parts.back(), where));
    if (!st) return absent();
    if (IsWhiteout(*st)) return Verdict::kHidden;
    found->fd =
        UniqueFd(::openat(dir.get(), parts.back().c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!found->fd) return Error::Sys("open", where);
  }
  if (::fstatat(found->fd.get(), "", &found->st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::Sys("stat", where);
  }
  found->layer = layer;
  return Verdict::kFound;
}

Result<std::optional<Lowers::Found>> Lowers::Lookup(const std::string& path) const {
  for (size_t layer = 0; layer < roots_.size(); ++layer) {
    Found found;
    switch (BERTH_TRY(LookupIn(layer, path, &found))) {
      case Verdict::kFound:
        return std::optional<Found>(std::move(found));
      case Verdict::kHidden:
      case Verdict::kAbsentStopHere:
        return std::optional<Found>();
      case Verdict::kAbsent:
        break;
    }
  }
  return std::optional<Found>();
}

Status CopyUpObject(const Lowers::Found& src, int dir_fd, const std::string& name,
                    const std::string& what) {
  mode_t type = src.st.st_mode & S_IFMT;
  if (type == S_IFREG) {
    UniqueFd out(
        ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return Error::Sys("create", what);
    BERTH_TRY(CopyContent(src.fd.get(), out.get(), what));
  } else if (type == S_IFLNK) {
    std::string target(static_cast<size_t>(src.st.st_size) + 1, '\0');
    ssize_t n = ::readlinkat(src.fd.get(), "", target.data(), target.size());
    if (n < 0) return Error::Sys("readlink", what + " (copy-up source)");
    target.resize(static_cast<size_t>(n));
    if (::symlinkat(target.c_str(), dir_fd, name.c_str()) != 0) return Error::Sys("symlink", what);
  } else if (type == S_IFCHR || type == S_IFBLK || type == S_IFIFO) {
    if (::mknodat(dir_fd, name.c_str(), type | 0600, src.st.st_rdev) != 0) {
      return Error::Sys("mknod", what);
    }
  } else {
    return Error(Errc::kUnimplemented,
                 "cannot copy up a " + std::string(S_ISDIR(type) ? "directory" : "socket"));
  }
  EntryMeta meta = BERTH_TRY(ReadMeta(src.fd.get(), what));
  return ApplyMeta({dir_fd, name, what}, meta, type == S_IFLNK, false);
}

}  // namespace berth::image
