#pragma once
// Creates the objects a layer's tar members describe inside the snapshot
// directory, with overlayfs's conventions for deletions:
//   - every path is resolved beneath the snapshot root (beneath.h), so
//     nothing outside it is ever created, changed or removed;
//   - a member replaces what an earlier member of the same layer made at
//     its path, except that a directory over a directory merges;
//   - a parent directory the layer does not list is created with the
//     owner, mode and xattrs the lower snapshots show there (mkparent);
//   - a whiteout becomes a 0/0 character device, an opaque marker the
//     xattr trusted.overlay.opaque=y on its directory;
//   - a hard link whose target is only in a lower snapshot copies that
//     file up first, then links to the copy;
//   - directory times are set last (Finish), after their content.

#include <sys/stat.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/image/unpack/lowers.h"
#include "runtime/image/unpack/metadata.h"

namespace berth::image {

// The content of the regular file being created.
class EntryData {
 public:
  virtual ~EntryData() = default;
  // Writes it to `fd` (a new, empty file), keeping holes of sparse members.
  virtual Status WriteTo(int fd, const std::string& what) = 0;
};

class EntryWriter {
 public:
  // `root_fd`: the snapshot directory, opened O_RDONLY | O_DIRECTORY.
  EntryWriter(int root_fd, const Lowers& lowers) : root_fd_(root_fd), lowers_(lowers) {}

  // Gives the snapshot root the attributes of the top-most lower's root, so
  // the merged root looks as the lowers made it unless the layer has "./".
  Status InheritRoot();

  // Paths are cleaned (entry_path.h); "" is the snapshot root.
  Status Directory(const std::string& path, const EntryMeta& meta);
  Status RegularFile(const std::string& path, const EntryMeta& meta, EntryData& data);
  Status Symlink(const std::string& path, const std::string& target, const EntryMeta& meta);
  // `target` is the member's link name, uncleaned: it is confined like a path.
  Status Hardlink(const std::string& path, const std::string& target);
  // Character or block device, or fifo (`type` is S_IFCHR, S_IFBLK, S_IFIFO).
  Status Special(const std::string& path, mode_t type, dev_t rdev, const EntryMeta& meta);
  Status Whiteout(const std::string& path, uid_t uid, gid_t gid);
  Status Opaque(const std::string& dir);

  // Sets the directory times deferred so far.
  Status Finish();

 private:
  struct Slot {
    UniqueFd parent;  // O_PATH
    std::string name;
    bool is_dir = false;  // an existing directory kept for a merge
  };
  // Ensures the parent of `path` and clears `path` for a new object,
  // keeping an existing directory when `merge_dir`.
  Result<Slot> Prepare(const std::string& path, bool merge_dir);
  Result<UniqueFd> EnsureDir(const std::string& path);
  Status InheritDir(const std::string& path, int parent_fd, const std::string& name);

  int root_fd_;
  const Lowers& lowers_;
  std::vector<std::pair<std::string, EntryMeta>> dir_times_;
};

}  // namespace berth::image
