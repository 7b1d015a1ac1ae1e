#include "runtime/cri/images/disk_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <utility>

#include "common/fd.h"
#include "common/time.h"

namespace berth::cri {
namespace {

struct Walk {
  dev_t dev = 0;
  DiskUsage usage;
  std::set<std::pair<dev_t, ino_t>> linked;  // multiply linked files seen
};

void Count(const struct stat& st, Walk* walk) {
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !walk->linked.emplace(st.st_dev, st.st_ino).second)
    return;
  walk->usage.inodes++;
  walk->usage.bytes += static_cast<uint64_t>(st.st_blocks) * 512;
}

// Counts the entries of the directory open as `fd` (consumed) and recurses.
Status WalkDir(int fd, const std::string& path, Walk* walk) {
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    Error e = Error::Sys("fdopendir", path);
    ::close(fd);
    return e;
  }
  std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
  while (true) {
    errno = 0;
    struct dirent* ent = ::readdir(d);
    if (ent == nullptr) {
      if (errno != 0) return Error::Sys("readdir", path);
      return Ok();
    }
    std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return Error::Sys("fstatat", path + "/" + ent->d_name);
    }
    Count(st, walk);
    if (!S_ISDIR(st.st_mode) || st.st_dev != walk->dev) continue;
    int child = ::openat(::dirfd(d), ent->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) {
      if (errno == ENOENT) continue;
      return Error::Sys("open", path + "/" + ent->d_name);
    }
    BERTH_TRY(WalkDir(child, path + "/" + ent->d_name, walk));
  }
}

}  // namespace

Result<DiskUsage> MeasureTree(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::Sys("open", dir);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Error e = Error::Sys("fstat", dir);
    ::close(fd);
    return e;
  }
  Walk walk;
  walk.dev = st.st_dev;
  Count(st, &walk);
  BERTH_TRY(WalkDir(fd, dir, &walk));
  return walk.usage;
}

Result<UsageSample> CachedUsage::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t generation = generation_.load();
  if (sample_ && sample_generation_ == generation &&
      MonotonicNanos() - taken_mono_ns_ < ttl_.count()) {
    return *sample_;
  }
  DiskUsage usage = BERTH_TRY(MeasureTree(dir_));
  sample_generation_ = generation;
  timespec wall = WallClockNow();
  sample_ = UsageSample{usage, static_cast<int64_t>(wall.tv_sec) * 1'000'000'000 + wall.tv_nsec};
  taken_mono_ns_ = MonotonicNanos();
  return *sample_;
}

void CachedUsage::Invalidate() {
  generation_++;
}

}  // namespace berth::cri
