#pragma once
// Whether the node is under memory, disk or PID pressure: the hard
// eviction thresholds (evictionHard) against what the node observes now,
// as upstream's eviction manager derives the MemoryPressure, DiskPressure
// and PIDPressure conditions. (berth observes memory.available as
// /proc/meminfo MemAvailable; upstream subtracts the root cgroup's working
// set from capacity.)

#include <optional>
#include <vector>

#include "agent/config/eviction.h"
#include "agent/node/machine_info.h"

namespace berth::agent {

struct Observations {
  std::optional<MemoryStats> memory;
  std::optional<FsStats> nodefs;       // the agent's root directory
  std::optional<FsStats> imagefs;      // the runtime's image filesystem; nodefs if unknown
  std::optional<FsStats> containerfs;  // writable layers; imagefs if unknown
  std::optional<PidStats> pids;
};

struct Pressure {
  bool memory = false;
  bool disk = false;
  bool pid = false;
};

// Signals without an observation never count as pressure.
Pressure UnderPressure(const std::vector<EvictionThreshold>& hard, const Observations& o);

}  // namespace berth::agent
