#pragma once
// Committed layer snapshots for overlayfs, keyed by chain ID.
//
// Vocabulary (containerd's, reduced to what an image needs):
//   snapshot   the unpacked form of one layer on top of its parents: a
//              directory an overlay mount takes as one lowerdir
//   chain ID   identifies a layer *with* all layers below it
//              (image-spec config.md, "Layer ChainID"), so equal chain IDs
//              mean equal content, shareable between images
//   parent     the snapshot of the chain one layer shorter
//
// Layout under the root (e.g. /var/lib/berth/snapshots):
//   <chainid-hex>/fs              the snapshot's directory
//   <chainid-hex>/snapshot.json   {"chainId", "parent", "size", "inodes"}
//   tmp-XXXXXX/                   an Ensure in progress (or interrupted)
//
// Lifecycle: Ensure prepares a snapshot in a fresh tmp-XXXXXX directory,
// lets the caller fill tmp-XXXXXX/fs (ApplyLayer), writes the metadata,
// syncs the filesystem and renames the directory to <chainid-hex> with
// RENAME_NOREPLACE. The rename is the commit: a <chainid-hex> directory is
// always complete, and two creators racing for the same chain ID both
// succeed (the loser discards its copy). Committed snapshots are never
// modified, only removed whole (Remove renames them away first).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/image/digest.h"

namespace berth::image {

struct SnapshotInfo {
  Digest chain_id;
  Digest parent;        // empty for a base layer
  uint64_t size = 0;    // bytes the fs directory uses (du: blocks * 512)
  uint64_t inodes = 0;  // objects in it, hard links counted once
  std::string dir;      // <root>/<hex>/fs
};

class Snapshots {
 public:
  // Fills `dir` (empty, created) as the snapshot above `lower_dirs` (the
  // parent chain's directories, top-most first).
  using ApplyFn =
      std::function<Status(const std::string& dir, const std::vector<std::string>& lower_dirs)>;

  explicit Snapshots(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  // Where the snapshot of `chain_id` lives when committed.
  std::string Dir(const Digest& chain_id) const;

  // The committed snapshot of `chain_id`, creating it with `apply` above
  // `parent` (empty for a base layer; otherwise it must be committed).
  // Returns its directory.
  Result<std::string> Ensure(const Digest& chain_id, const Digest& parent, const ApplyFn& apply);

  // The directories of `chain_id` and its ancestors, top-most first: the
  // lowerdirs of an overlay showing that layer.
  Result<std::vector<std::string>> LowerDirs(const Digest& chain_id) const;

  Result<SnapshotInfo> Stat(const Digest& chain_id) const;
  // Every committed snapshot, in no particular order.
  Result<std::vector<SnapshotInfo>> List() const;
  // Removes a committed snapshot: kNotFound if there is none,
  // kFailedPrecondition while another snapshot names it as parent.
  Status Remove(const Digest& chain_id);
  // Removes the tmp-* leftovers of interrupted Ensure and Remove calls.
  // Only safe while no Ensure runs on this root (e.g. at startup).
  Status RemoveTemporary();

 private:
  Result<std::string> Commit(const std::string& tmp, const Digest& chain_id);

  std::string root_;
};

}  // namespace berth::image
