#include "common/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace berth {

Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Error::Sys("open", path);
  return UniqueFd(fd);
}

Result<std::string> ReadFileAt(int dirfd, const std::string& path) {
  int fd = ::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Sys("open", path);
  UniqueFd owned(fd);
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  return ReadFileAt(AT_FDCWD, path);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Sys("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status WriteExisting(const std::string& path, std::string_view data) {
  UniqueFd fd = BERTH_TRY(Open(path, O_WRONLY | O_TRUNC));
  // Kernel knobs take the value in one write(2); report the knob and value.
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) {
    return Error::Sys("write", path + " (value \"" + std::string(data) + "\")");
  }
  return Ok();
}

Status WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  UniqueFd fd = BERTH_TRY(Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  return WriteAll(fd.get(), data, path);
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       Durability durability) {
  bool sync = durability == Durability::kPowerLoss;
  std::string dir = Dirname(path);
  std::string tmp = PathJoin(dir, "." + Basename(path) + ".tmp-XXXXXX");
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Error::Sys("mkostemp", tmp);
  UniqueFd owned(fd);
  auto fail = [&](Error e) {
    ::unlink(tmp.c_str());
    return e;
  };
  if (::fchmod(fd, mode) != 0) return fail(Error::Sys("fchmod", tmp));
  if (Status s = WriteAll(fd, data, tmp); !s) return fail(std::move(s).error());
  if (sync && ::fsync(fd) != 0) return fail(Error::Sys("fsync", tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(Error::Sys("rename", tmp + " to " + path));
  if (!sync) return Ok();
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd && ::fsync(dfd.get()) != 0) return Error::Sys("fsync", dir);
  return Ok();
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Status MkdirAll(const std::string& path, mode_t mode) {
  if (path.empty()) return Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Ok();
    return Error(Errc::kFailedPrecondition, "mkdir `" + path + "`: exists and is not a directory");
  }
  std::string parent = Dirname(path);
  if (parent != path) BERTH_TRY(MkdirAll(parent, mode));
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return Error::Sys("mkdir", path);
  return Ok();
}

Result<std::vector<std::string>> ListDirAt(int dir_fd, const std::string& what) {
  // fdopendir takes the fd over (and shares its offset): give it its own.
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::Sys("open", what);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return Error::Sys("fdopendir", what, err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return Error::Sys("readdir", what, err);
  return names;
}

Status RemoveAllAt(int dirfd, const std::string& name, const std::string& display) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return Ok();
  if (errno != EISDIR && errno != EPERM) return Error::Sys("unlink", display);
  UniqueFd dir(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) return Ok();
    return Error::Sys("open", display);
  }
  Status status;
  for (const std::string& child : BERTH_TRY(ListDirAt(dir.get(), display))) {
    status = RemoveAllAt(dir.get(), child, display + "/" + child);
    if (!status) break;
  }
  if (!status) return status;
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Error::Sys("rmdir", display);
  }
  return Ok();
}

Status RemoveAll(const std::string& path) {
  return RemoveAllAt(AT_FDCWD, path, path);
}

Result<std::vector<std::string>> ListDir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return Error::Sys("opendir", path);
  std::vector<std::string> out;
  while (dirent* ent = ::readdir(dir)) {
    std::string name = ent->d_name;
    if (name != "." && name != "..") out.push_back(std::move(name));
  }
  ::closedir(dir);
  return out;
}

std::string PathJoin(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  while (!b.empty() && b.front() == '/')
    b.remove_prefix(1);
  out += b;
  return out;
}

std::string Dirname(std::string_view path) {
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  size_t pos = path.rfind('/');
  if (pos == std::string_view::npos) return ".";
  if (pos == 0) return "/";
  return std::string(path.substr(0, pos));
}

std::string Basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  size_t pos = path.rfind('/');
  if (pos == std::string_view::npos) return std::string(path);
  return std::string(path.substr(pos + 1));
}

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  bool absolute = path.front() == '/';
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.emplace_back("..");
      }
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    start = end + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += '/';
    out += parts[i];
  }
  if (out.empty()) return ".";
  return out;
}

}  // namespace berth
