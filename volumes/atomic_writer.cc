#include "volumes/atomic_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <ctime>
#include <set>

#include "common/fd.h"
#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"

namespace berth::volumes {
namespace {

constexpr std::string_view kDataDirName = "..data";
constexpr std::string_view kNewDataDirName = "..data_tmp";
constexpr size_t kMaxPathLength = 4096;
constexpr size_t kMaxFileNameLength = 255;

// The first element of a relative path ("a/b/c" -> "a").
std::string TopLevel(const std::string& path) {
  return path.substr(0, path.find('/'));
}

// A timestamped data directory's name ("..2026_11_22_20_00_00.123456789").
bool IsTimestampDirName(std::string_view name) {
  return name.size() > 3 && name.substr(0, 2) == ".." && name[2] >= '0' && name[2] <= '9' &&
         name.find('/') == std::string_view::npos;
}

Result<std::optional<std::string>> ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Error::Sys("readlink", path);
  }
  return std::optional<std::string>(std::string(buf, static_cast<size_t>(n)));
}

// Every path below `dir` relative to it (files, directories and symlinks,
// not following symlinks), as upstream's filepath.Walk collects them.
Status CollectPaths(const std::string& dir, const std::string& prefix, std::set<std::string>& out) {
  for (const std::string& name : BERTH_TRY(ListDir(dir))) {
    std::string rel = prefix.empty() ? name : prefix + "/" + name;
    out.insert(rel);
    struct stat st {};
    std::string full = dir + "/" + name;
    if (::lstat(full.c_str(), &st) != 0) return Error::Sys("lstat", full);
    if (S_ISDIR(st.st_mode)) BERTH_TRY(CollectPaths(full, rel, out));
  }
  return Ok();
}

// Paths of the old version that the new payload does not have (neither as
// a file nor as a parent directory of one).
Result<std::set<std::string>> PathsToRemove(const Payload& payload, const std::string& old_dir) {
  std::set<std::string> old_paths;
  if (!PathExists(old_dir)) return old_paths;
  BERTH_TRY(CollectPaths(old_dir, "", old_paths));
  for (const auto& [path, file] : payload) {
    for (std::string sub = path; !sub.empty();) {
      old_paths.erase(sub);
      size_t slash = sub.rfind('/');
      sub = slash == std::string::npos ? std::string() : sub.substr(0, slash);
    }
  }
  return old_paths;
}

Status WriteProjectedFile(const std::string& path, const FileProjection& file) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     file.mode & 07777));
  if (!fd) return Error::Sys("create", path);
  BERTH_TRY(WriteAll(fd.get(), file.data, path));
  // The umask narrowed the mode open(2) applied.
  if (::fchmod(fd.get(), file.mode & 07777) != 0) return Error::Sys("chmod", path);
  if (file.fs_user && ::fchown(fd.get(), *file.fs_user, static_cast<gid_t>(-1)) != 0) {
    return Error::Sys("chown", path);
  }
  return Ok();
}

}  // namespace

Status ValidatePayloadPath(std::string_view path) {
  std::string quoted(path);
  if (path.empty()) return Error(Errc::kInvalidArgument, "invalid path: must not be empty: \"\"");
  if (path.front() == '/') {
    return Error(Errc::kInvalidArgument, "invalid path: must be relative path: " + quoted);
  }
  if (path.size() > kMaxPathLength) {
    return Error(Errc::kInvalidArgument, "invalid path: must be less than or equal to " +
                                             std::to_string(kMaxPathLength) + " characters");
  }
  std::vector<std::string> items = Split(path, '/');
  for (const std::string& item : items) {
    if (item == "..") {
      return Error(Errc::kInvalidArgument, "invalid path: must not contain '..': " + quoted);
    }
    if (item.size() > kMaxFileNameLength) {
      return Error(Errc::kInvalidArgument,
                   "invalid path: filenames must be less than or equal to " +
                       std::to_string(kMaxFileNameLength) + " characters");
    }
  }
  if (items[0].size() > 2 && items[0].compare(0, 2, "..") == 0) {
    return Error(Errc::kInvalidArgument, "invalid path: must not start with '..': " + quoted);
  }
  return Ok();
}

AtomicWriter::AtomicWriter(std::string target_dir, std::string log_context)
    : target_dir_(std::move(target_dir)), log_context_(std::move(log_context)) {}

Result<bool> AtomicWriter::Write(const Payload& payload, const SetPerms& set_perms) {
  Payload clean;
  for (const auto& [path, file] : payload) {
    BERTH_TRY(ValidatePayloadPath(path));
    clean[CleanPath(path)] = file;
  }

  const std::string data_link = PathJoin(target_dir_, kDataDirName);
  std::optional<std::string> old_ts = BERTH_TRY(ReadLink(data_link));
  if (old_ts && !IsTimestampDirName(*old_ts)) {
    return Error(Errc::kFailedPrecondition,
                 log_context_ + ": " + data_link + " points to unexpected \"" + *old_ts + "\"");
  }

  std::set<std::string> to_remove;
  bool write = true;
  if (old_ts) {
    std::string old_dir = PathJoin(target_dir_, *old_ts);
    to_remove = BERTH_TRY(PathsToRemove(clean, old_dir));
    if (!BERTH_TRY(ShouldWrite(clean, old_dir)) && to_remove.empty()) {
      write = false;
      old_ts.reset();  // still current: keep it
    }
  }

  if (write) {
    std::string ts_name = BERTH_TRY(NewTimestampDir());
    std::string ts_dir = PathJoin(target_dir_, ts_name);
    auto discard = [&](Error error) {
      if (Status s = RemoveAll(ts_dir); !s.ok())
        BLOG(kWarn) << log_context_ << ": " << s.error().str();
      return error;
    };
    if (Status s = WritePayloadToDir(clean, ts_dir); !s.ok()) return discard(std::move(s).error());
    if (set_perms) {
      if (Status s = set_perms(ts_name); !s.ok()) return discard(std::move(s).error());
    }
    const std::string new_link = PathJoin(target_dir_, kNewDataDirName);
    // A ..data_tmp left by a writer killed at this step is stale.
    if (::unlink(new_link.c_str()) != 0 && errno != ENOENT) {
      return discard(Error::Sys("unlink", new_link));
    }
    if (::symlink(ts_name.c_str(), new_link.c_str()) != 0) {
      return discard(Error::Sys("symlink", new_link));
    }
    if (::rename(new_link.c_str(), data_link.c_str()) != 0) {
      Error error = Error::Sys("rename", new_link + "` to `" + data_link);
      ::unlink(new_link.c_str());
      return discard(std::move(error));
    }
  }

  BERTH_TRY(CreateUserVisibleFiles(clean));
  for (const std::string& path : to_remove) {
    // Only the top-level symlinks live outside the data directory.
    if (path.find('/') != std::string::npos) continue;
    std::string visible = PathJoin(target_dir_, path);
    if (::unlink(visible.c_str()) != 0 && errno != ENOENT) return Error::Sys("unlink", visible);
  }
  if (write) {
    // The previous version, and any a writer killed mid-way left behind.
    std::string current = *BERTH_TRY(ReadLink(data_link));
    for (const std::string& name : BERTH_TRY(ListDir(target_dir_))) {
      if (IsTimestampDirName(name) && name != current) {
        BERTH_TRY(RemoveAll(PathJoin(target_dir_, name)));
      }
    }
  }
  return write;
}

Result<std::string> AtomicWriter::NewTimestampDir() const {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto nanos = static_cast<long>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
      1000000000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.", &utc);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    char name[96];
    std::snprintf(name, sizeof name, "%s%09ld", stamp, (nanos + attempt) % 1000000000);
    std::string path = PathJoin(target_dir_, name);
    if (::mkdir(path.c_str(), 0700) == 0) {
      // Group and others must be able to traverse it, whatever the umask.
      if (::chmod(path.c_str(), 0755) != 0) return Error::Sys("chmod", path);
      return std::string(name);
    }
    if (errno != EEXIST) return Error::Sys("mkdir", path);
  }
  return Error(Errc::kAlreadyExists, log_context_ + ": no free timestamped directory name");
}

Status AtomicWriter::WritePayloadToDir(const Payload& payload, const std::string& dir) const {
  for (const auto& [path, file] : payload) {
    std::string full = PathJoin(dir, path);
    BERTH_TRY(MkdirAll(Dirname(full), 0755));
    BERTH_TRY(WriteProjectedFile(full, file));
  }
  return Ok();
}

Result<bool> AtomicWriter::ShouldWrite(const Payload& payload, const std::string& old_dir) const {
  for (const auto& [path, file] : payload) {
    std::string old_path = PathJoin(old_dir, path);
    struct stat st {};
    if (::lstat(old_path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return true;
      return Error::Sys("lstat", old_path);
    }
    if (!S_ISREG(st.st_mode)) return true;
    std::string on_disk = BERTH_TRY(ReadFile(old_path));
    if (on_disk != file.data) return true;
  }
  return false;
}

Status AtomicWriter::CreateUserVisibleFiles(const Payload& payload) const {
  std::set<std::string> names;
  for (const auto& [path, file] : payload)
    names.insert(TopLevel(path));
  for (const std::string& name : names) {
    std::string visible = PathJoin(target_dir_, name);
    struct stat st {};
    if (::lstat(visible.c_str(), &st) == 0) continue;
    if (errno != ENOENT) return Error::Sys("lstat", visible);
    std::string target = std::string(kDataDirName) + "/" + name;
    if (::symlink(target.c_str(), visible.c_str()) != 0) return Error::Sys("symlink", visible);
  }
  return Ok();
}

}  // namespace berth::volumes
