#pragma once
// Mounting a container's root filesystem from snapshots: overlayfs with
// the image's snapshots as lowerdirs (top-most first) and, for a writable
// container, an upperdir + workdir (Documentation/filesystems/overlayfs.rst).
//
// How the lowerdirs reach the kernel:
//   - the new mount API (fsopen("overlay"), one fsconfig "lowerdir+" per
//     layer, since Linux 6.8): no length limit, and no escaping of ':' or
//     ',' in paths;
//   - where "lowerdir+" is unknown, mount(2) with "lowerdir=a:b:..." in
//     the data page (4096 bytes). When absolute paths do not fit, a child
//     process chdirs to the paths' common ancestor (the snapshots root) and
//     mounts with relative paths (the classic short-path trick; a child, so
//     the caller's cwd is never changed under its other threads).
// One lower and no upper cannot be an overlay (the kernel wants two): it
// is a read-only bind mount of that directory. No lowers and an upper is a
// bind mount of the upper.

#include <string>
#include <vector>

#include "common/error.h"

namespace berth::image {

// Owns a mount: unmounted on destruction unless released.
class OverlayMount {
 public:
  OverlayMount() = default;
  explicit OverlayMount(std::string target) : target_(std::move(target)) {}
  OverlayMount(const OverlayMount&) = delete;
  OverlayMount& operator=(const OverlayMount&) = delete;
  OverlayMount(OverlayMount&& other) noexcept : target_(other.release()) {}
  OverlayMount& operator=(OverlayMount&& other) noexcept;
  ~OverlayMount();

  const std::string& target() const { return target_; }
  bool mounted() const { return !target_.empty(); }
  // umount2(target, 0); when busy, a lazy detach (MNT_DETACH) so the
  // mount still leaves the namespace.
  Status Unmount();
  // Gives up ownership: the mount stays. Returns the target.
  std::string release() { return std::exchange(target_, {}); }

 private:
  std::string target_;
};

enum class MountApi {
  kAuto,    // the new API, mount(2) when "lowerdir+" is unsupported
  kNew,     // only fsopen/fsconfig
  kLegacy,  // only mount(2) (tests of the fallback)
};

// Mounts the overlay at `target` (an existing directory). `upper` and
// `work` are both set or both empty; without an upper the mount is
// read-only whatever `readonly` says.
Result<OverlayMount> MountOverlay(const std::vector<std::string>& lower_dirs,
                                  const std::string& upper, const std::string& work,
                                  const std::string& target, bool readonly,
                                  MountApi api = MountApi::kAuto);

// The mount(2) form, computed: `data` for the options page, with paths
// relative to `chdir` when that is not empty. Error (kResourceExhausted)
// when even relative paths exceed `limit` bytes. Exposed for tests.
struct LegacyOverlayData {
  std::string chdir;
  std::string data;
};
Result<LegacyOverlayData> LegacyOverlayOptions(const std::vector<std::string>& lower_dirs,
                                               const std::string& upper, const std::string& work,
                                               size_t limit);

}  // namespace berth::image
