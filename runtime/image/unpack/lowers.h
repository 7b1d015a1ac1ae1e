#pragma once
// The parent snapshots of a layer being applied, read the way overlayfs
// will merge them (Documentation/filesystems/overlayfs.rst): the top-most
// lower that has a name wins; a whiteout (char 0/0) or a non-directory
// hides the name and everything beneath it in the lowers below; an opaque
// directory (trusted.overlay.opaque=y) hides the lowers below it.
//
// The applier needs this view twice: a directory it must create implicitly
// takes its owner, mode and xattrs from the directory the lowers show there
// (containerd's mkparent), and a hard link to a file of a lower layer is
// made by copying that file up first.

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth::image {

class Lowers {
 public:
  // `dirs`: top-most first. Each is opened once, as a confinement root.
  static Result<Lowers> Open(const std::vector<std::string>& dirs);

  struct Found {
    size_t layer = 0;  // index into the dirs given to Open
    UniqueFd fd;       // O_PATH, O_NOFOLLOW fd of the object
    struct stat st {};
  };
  // The object the merged lowers show at `path` ("" = the root), or nullopt
  // when none does (missing, whited out, or hidden by an opaque directory).
  Result<std::optional<Found>> Lookup(const std::string& path) const;

  bool empty() const { return roots_.empty(); }
  const std::string& dir(size_t layer) const { return dirs_[layer]; }

 private:
  // What lower `layer` says about `path`.
  enum class Verdict { kFound, kAbsent, kHidden, kAbsentStopHere };
  Result<Verdict> LookupIn(size_t layer, const std::string& path, Found* found) const;

  std::vector<std::string> dirs_;
  std::vector<UniqueFd> roots_;
};

// Copies the non-directory `src` (regular file, symlink, device, fifo) to
// `name` in dir_fd, with its owner, mode, xattrs and times. `what` names the
// destination in errors.
Status CopyUpObject(const Lowers::Found& src, int dir_fd, const std::string& name,
                    const std::string& what);

}  // namespace berth::image
