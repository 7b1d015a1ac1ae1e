#pragma once
// A child process of the bench whose stdout comes back on a pipe, placed
// before exec into a network namespace and/or a cgroup (the backends'
// netns, the cgroup berth's socket programs watch).

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth::bench {

struct PipedChild {
  pid_t pid = -1;
  UniqueFd out;  // the child's stdout
};

// Exit codes of a child that failed before exec.
inline constexpr int kChildNoNetns = 126;
inline constexpr int kChildNoCgroup = 125;
inline constexpr int kChildNoExec = 127;

// Forks `argv` (argv[0] a path) with SIGKILL on the bench's death. In the
// child, before exec: setns into `netns` (a path) and join the cgroup v2
// directory `cgroup`, each when not empty.
Result<PipedChild> SpawnPiped(const std::vector<std::string>& argv, const std::string& netns,
                              const std::string& cgroup);

}  // namespace berth::bench
