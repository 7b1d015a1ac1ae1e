#include "agent/node/pressure.h"

namespace berth::agent {

Pressure UnderPressure(const std::vector<EvictionThreshold>& hard, const Observations& o) {
  Pressure p;
  const std::optional<FsStats>& imagefs = o.imagefs ? o.imagefs : o.nodefs;
  const std::optional<FsStats>& containerfs = o.containerfs ? o.containerfs : imagefs;
  auto below = [](int64_t available, const EvictionThreshold& t, int64_t capacity) {
    return available < t.Resolve(capacity);
  };
  for (const EvictionThreshold& t : hard) {
    const std::string& s = t.signal;
    if (s == kSignalMemoryAvailable && o.memory) {
      p.memory = p.memory || below(o.memory->available_bytes, t, o.memory->total_bytes);
    } else if (s == kSignalPidAvailable && o.pids) {
      p.pid = p.pid || below(o.pids->max - o.pids->running, t, o.pids->max);
    } else {
      const std::optional<FsStats>* fs = s.starts_with("nodefs.")        ? &o.nodefs
                                         : s.starts_with("imagefs.")     ? &imagefs
                                         : s.starts_with("containerfs.") ? &containerfs
                                                                         : nullptr;
      if (fs == nullptr || !*fs) continue;
      bool inodes = s.ends_with(".inodesFree");
      int64_t available = inodes ? (*fs)->inodes_free : (*fs)->available_bytes;
      int64_t capacity = inodes ? (*fs)->inodes : (*fs)->capacity_bytes;
      p.disk = p.disk || below(available, t, capacity);
    }
  }
  return p;
}

}  // namespace berth::agent
