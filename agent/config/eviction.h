#pragma once
// Hard eviction thresholds (KubeletConfiguration.evictionHard): a signal
// ("memory.available") and the level under which the node is under
// pressure, absolute ("100Mi", "1000" inodes) or a share of capacity
// ("10%"), as upstream's eviction.ParseThresholdConfig reads them.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace berth::agent {

inline constexpr char kSignalMemoryAvailable[] = "memory.available";
inline constexpr char kSignalNodeFsAvailable[] = "nodefs.available";
inline constexpr char kSignalNodeFsInodesFree[] = "nodefs.inodesFree";
inline constexpr char kSignalImageFsAvailable[] = "imagefs.available";
inline constexpr char kSignalImageFsInodesFree[] = "imagefs.inodesFree";
inline constexpr char kSignalContainerFsAvailable[] = "containerfs.available";
inline constexpr char kSignalContainerFsInodesFree[] = "containerfs.inodesFree";
inline constexpr char kSignalPidAvailable[] = "pid.available";
inline constexpr char kSignalAllocatableMemoryAvailable[] = "allocatableMemory.available";

struct EvictionThreshold {
  std::string signal;
  int64_t quantity = 0;  // bytes, inodes or pids, when !is_percentage
  float percentage = 0;  // of capacity, 0 < p < 1 (float, as upstream keeps it)
  bool is_percentage = false;

  // The threshold for a resource of `capacity` (a percentage truncated to
  // a whole unit, as upstream's GetThresholdQuantity).
  int64_t Resolve(int64_t capacity) const;
  bool operator==(const EvictionThreshold&) const = default;
};

// memory.available<100Mi, nodefs.available<10%, imagefs.available<15%,
// nodefs.inodesFree<5%: what kubelet uses when evictionHard is unset. (In
// 1.33 an evictionHard that is set replaces these entirely.)
std::vector<EvictionThreshold> DefaultEvictionHard();

// One entry per signal; "0%", "100%" and "0" disable a signal, as
// upstream ignores them. `what` names the field in errors
// ("evictionHard[memory.available]: ...").
Result<std::vector<EvictionThreshold>> ParseEvictionThresholds(
    const std::vector<std::pair<std::string, std::string>>& entries, std::string_view what);

// The threshold for `signal`, or nullptr.
const EvictionThreshold* FindThreshold(const std::vector<EvictionThreshold>& thresholds,
                                       std::string_view signal);

}  // namespace berth::agent
