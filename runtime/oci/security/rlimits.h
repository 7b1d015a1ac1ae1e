#pragma once
// process.rlimits and process.oomScoreAdj, applied in the container init.
//
// On hosts without CAP_SYS_RESOURCE in the bounding set, raising a hard
// limit or lowering oom_score_adj below the current value fails with EPERM
// (EACCES for oom_score_adj). berth clamps (keeps the current hard limit /
// current score) and warns, as containerd's restrict_oom_score_adj does,
// instead of failing the container. Every other failure is an error naming
// the limit.

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace berth::runtime::security {

struct Rlimit {
  int resource = 0;             // RLIMIT_*
  std::string name;             // "RLIMIT_NOFILE"
  uint64_t soft = 0, hard = 0;  // RLIM_INFINITY (2^64-1) for unlimited
};

// Parses process.rlimits; errors name the entry ("process.rlimits[1].type:
// unknown rlimit \"RLIMIT_FOO\""); duplicate types are an error (the spec's
// MUST), and so is a soft limit above its hard limit.
Result<std::vector<Rlimit>> ParseRlimits(const json::Field& field);
// "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 if unknown.
int RlimitFromName(const std::string& name);
// RLIMIT_NOFILE -> "RLIMIT_NOFILE"; the number as a string if unknown.
std::string RlimitName(int resource);
// Every RLIMIT_* name, sorted.
std::vector<std::string> KnownRlimits();

// Parses process.oomScoreAdj (absent -> nullopt; -1000..1000).
Result<std::optional<int>> ParseOomScoreAdj(const json::Field& field);

// Applies each limit to process `pid` (0 = self) with prlimit; a hard limit
// above the current hard limit that the kernel refuses with EPERM is
// clamped (hard = current hard, soft = min(soft, current hard)), and a
// warning line is appended to `warnings` (may be null).
Status ApplyRlimits(const std::vector<Rlimit>& limits, pid_t pid,
                    std::vector<std::string>* warnings);

// Writes /proc/<pid>/oom_score_adj (pid 0 = self); an EPERM/EACCES for a value
// below the current one keeps the current value and adds a warning.
Status ApplyOomScoreAdj(int value, pid_t pid, std::vector<std::string>* warnings);

}  // namespace berth::runtime::security
