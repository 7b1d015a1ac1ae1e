#pragma once
// Disk usage of a directory tree, du(1)-style, and a cache of it for
// ImageFsInfo (kubelet asks every few seconds; containerd answers from
// sizes its snapshot syncer refreshes every 10 s).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "common/error.h"

namespace berth::cri {

struct DiskUsage {
  uint64_t bytes = 0;   // st_blocks * 512 of every object, the root included
  uint64_t inodes = 0;  // objects; a hard-linked file counts once
};

// Walks `dir` without following symlinks or crossing into other
// filesystems. Entries removed while the walk runs are skipped (a GC or an
// unpack may be at work); a missing `dir` is an error.
Result<DiskUsage> MeasureTree(const std::string& dir);

struct UsageSample {
  DiskUsage usage;
  int64_t timestamp_ns = 0;  // wall clock when the walk finished
};

// MeasureTree(dir), redone at most once per `ttl`. Concurrent callers wait
// for one walk instead of starting their own.
class CachedUsage {
 public:
  CachedUsage(std::string dir, std::chrono::nanoseconds ttl) : dir_(std::move(dir)), ttl_(ttl) {}
  const std::string& dir() const { return dir_; }

  Result<UsageSample> Get();
  // The next Get walks again (after a pull or a removal).
  void Invalidate();

 private:
  const std::string dir_;
  const std::chrono::nanoseconds ttl_;
  std::atomic<uint64_t> generation_{0};  // bumped by Invalidate (never blocks)
  std::mutex mu_;                        // held across the walk: callers share one result
  std::optional<UsageSample> sample_;
  uint64_t sample_generation_ = 0;
  int64_t taken_mono_ns_ = 0;
};

}  // namespace berth::cri
