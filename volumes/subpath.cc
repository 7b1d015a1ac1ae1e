#include "volumes/subpath.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "common/file.h"
#include "common/strings.h"

namespace berth::volumes {
namespace {

Result<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return Error::Sys("realpath", path);
  return std::string(buf);
}

bool Within(const std::string& path, const std::string& base) {
  return path == base || (path.size() > base.size() && path.compare(0, base.size(), base) == 0 &&
                          (base == "/" || path[base.size()] == '/'));
}

Error Escapes(const std::string& sub_path, const std::string& resolved, const std::string& volume) {
  return Error(Errc::kInvalidArgument, "subPath `" + sub_path + "` resolves to " + resolved +
                                           ", outside of the volume " + volume);
}

}  // namespace

Result<std::string> SubPathHostPath(const std::string& volume_path, const std::string& sub_path) {
  if (!sub_path.empty() && sub_path.front() == '/') {
    return Error(Errc::kInvalidArgument,
                 "error SubPath `" + sub_path + "` must not be an absolute path");
  }
  for (const std::string& part : Split(sub_path, '/')) {
    if (part == "..") {
      return Error(Errc::kInvalidArgument,
                   "unable to provision SubPath `" + sub_path + "`: must not contain '..'");
    }
  }
  const std::string base = BERTH_TRY(RealPath(volume_path));
  struct stat base_st {};
  if (::stat(base.c_str(), &base_st) != 0) return Error::Sys("stat", base);

  // Resolve one element at a time, so that a symlink pointing out of the
  // volume is refused before anything is created through it.
  std::string current = base;
  for (const std::string& part : Split(CleanPath(sub_path), '/')) {
    if (part.empty() || part == ".") continue;
    std::string next = current + (current == "/" ? "" : "/") + part;
    struct stat st {};
    if (::lstat(next.c_str(), &st) != 0) {
      if (errno != ENOENT) return Error::Sys("lstat", next);
      if (::mkdir(next.c_str(), base_st.st_mode & 07777) != 0 && errno != EEXIST) {
        return Error::Sys("mkdir", next)
            .Wrap("failed to create subPath directory `" + sub_path + "`");
      }
      // The umask narrowed it.
      if (::chmod(next.c_str(), base_st.st_mode & 07777) != 0) return Error::Sys("chmod", next);
    }
    Result<std::string> resolved = RealPath(next);
    if (!resolved.ok()) {
      // A dangling symlink: where it points is what matters.
      return Error(Errc::kInvalidArgument, "subPath `" + sub_path + "`: " + resolved.error().str());
    }
    if (!Within(*resolved, base)) return Escapes(sub_path, *resolved, base);
    current = *resolved;
  }
  return current;
}

}  // namespace berth::volumes
