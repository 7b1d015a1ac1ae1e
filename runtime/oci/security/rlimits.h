#pragma once
// process.rlimits and process.oomScoreAdj, applied in the container init.
//
// On hosts without CAP_SYS_RESOURCE in the bounding set, raising a hard
// limit or lowering oom_score_adj below the current value fails with EPERM.
// berth clamps (keeps the current hard limit / current score) and warns, as
// containerd's restrict_oom_score_adj does, instead of failing the container.

#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace berth::runtime::security {

struct Rlimit {
  int resource = 0;  // RLIMIT_*
  std::string name;  // "RLIMIT_NOFILE"
  uint64_t soft = 0, hard = 0;
};

// Parses process.rlimits; errors name the entry ("process.rlimits[1].type:
// unknown rlimit \"RLIMIT_FOO\""); duplicate types are an error.
Result<std::vector<Rlimit>> ParseRlimits(const json::Field& field);
int RlimitFromName(const std::string& name);

// Applies each limit to process `pid` (0 = self) with prlimit; a hard limit
// above the current hard limit that the kernel refuses with EPERM is
// clamped, and a warning line is appended to `warnings`.
Status ApplyRlimits(const std::vector<Rlimit>& limits, pid_t pid,
                    std::vector<std::string>* warnings);

// Writes /proc/<pid>/oom_score_adj (pid 0 = self); an EPERM for a value below
// the current one keeps the current value and adds a warning.
Status ApplyOomScoreAdj(int value, pid_t pid, std::vector<std::string>* warnings);

}  // namespace berth::runtime::security
