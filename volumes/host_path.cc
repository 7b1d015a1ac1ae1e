#include "volumes/host_path.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "common/fd.h"
#include "common/file.h"

namespace berth::volumes {
namespace {

bool StatIs(const std::string& path, mode_t format) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == format;
}

Status Require(const std::string& path, mode_t format, std::string_view what) {
  if (StatIs(path, format)) return Ok();
  return Error(Errc::kFailedPrecondition,
               "hostPath type check failed: " + path + " is not a " + std::string(what));
}

// stat(2), following symlinks as upstream's PathExists.
bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Status MakeFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd && errno != EEXIST) return Error::Sys("open", path);
  return Ok();
}

}  // namespace

Status CheckHostPathType(const std::string& path, std::string_view type) {
  if (type.empty()) return Ok();
  if (type == "DirectoryOrCreate") {
    if (!Exists(path)) return MkdirAll(path, 0755);
    return Require(path, S_IFDIR, "directory");
  }
  if (type == "Directory") return Require(path, S_IFDIR, "directory");
  if (type == "FileOrCreate") {
    if (!Exists(path)) return MakeFile(path);
    return Require(path, S_IFREG, "file");
  }
  if (type == "File") return Require(path, S_IFREG, "file");
  if (type == "Socket") return Require(path, S_IFSOCK, "socket file");
  if (type == "CharDevice") return Require(path, S_IFCHR, "character device");
  if (type == "BlockDevice") return Require(path, S_IFBLK, "block device");
  return Error(Errc::kInvalidArgument, std::string(type) + " is an invalid volume type");
}

}  // namespace berth::volumes
