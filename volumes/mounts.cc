#include "volumes/mounts.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include <algorithm>

#include "common/file.h"
#include "common/strings.h"

namespace berth::volumes {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeOctal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out +=
          static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool AtOrBelow(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  if (dir == "/") return true;
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

}  // namespace

std::vector<MountEntry> ParseMountInfo(std::string_view text) {
  // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
  std::vector<MountEntry> out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> fields = SplitNonEmpty(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 3) continue;
    out.push_back(MountEntry{.mount_point = UnescapeOctal(fields[4]),
                             .fs_type = *(dash + 1),
                             .source = UnescapeOctal(*(dash + 2))});
  }
  return out;
}

Result<std::vector<MountEntry>> ReadMountInfo(const std::string& path) {
  std::string text = BERTH_TRY(ReadFile(path));
  return ParseMountInfo(text);
}

Result<std::vector<std::string>> MountPointsUnder(const std::string& dir) {
  std::vector<std::string> points;
  for (MountEntry& entry : BERTH_TRY(ReadMountInfo())) {
    if (AtOrBelow(entry.mount_point, dir)) points.push_back(std::move(entry.mount_point));
  }
  // Deepest first; a path mounted over several times appears once per mount.
  std::stable_sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  return points;
}

Result<bool> IsMountPoint(const std::string& dir) {
  for (const MountEntry& entry : BERTH_TRY(ReadMountInfo())) {
    if (entry.mount_point == dir) return true;
  }
  return false;
}

Result<bool> IsTmpfs(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return Error::Sys("statfs", path);
  return fs.f_type == TMPFS_MAGIC;
}

Status MountTmpfs(const std::string& target, int64_t size_bytes) {
  std::string options = size_bytes > 0 ? "size=" + std::to_string(size_bytes) : std::string();
  if (::mount("tmpfs", target.c_str(), "tmpfs", 0, options.empty() ? nullptr : options.c_str()) !=
      0) {
    return Error::Sys("mount tmpfs" + (options.empty() ? "" : " -o " + options), target);
  }
  return Ok();
}

Status Unmount(const std::string& target) {
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return Ok();
  if (errno == EBUSY && ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return Ok();
  return Error::Sys("umount", target);
}

}  // namespace berth::volumes
