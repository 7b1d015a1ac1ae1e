#pragma once
// cgroupfs file access shared by both drivers (internal to cgroups/): knob
// reads and writes with errors that name the file and value, the parsers for
// the kernel's value formats, cgroup.procs, and directory removal.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::cgroups {

// "max" in v2 files and the v1 "unlimited" value both read as kMax.
inline constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

std::string KnobPath(std::string_view dir, std::string_view file);
bool KnobExists(std::string_view dir, std::string_view file);

// One write(2) of `value` to an existing file (O_WRONLY|O_TRUNC, never
// O_CREAT): `write `<dir>/<file>` (value "<value>"): <strerror>`.
Status WriteKnob(std::string_view dir, std::string_view file, std::string_view value);
// Test hook: sees every WriteKnob (path, value) in order, before the write;
// fake cgroup trees keep only a file's last value. Not thread-safe; pass
// nullptr to remove.
using KnobWriteObserver = std::function<void(const std::string& path, std::string_view value)>;
void SetKnobWriteObserverForTest(KnobWriteObserver observer);
Result<std::string> ReadKnob(std::string_view dir, std::string_view file);
Result<uint64_t> ReadKnobUint(std::string_view dir, std::string_view file);
Result<int64_t> ReadKnobInt(std::string_view dir, std::string_view file);
Result<std::map<std::string, uint64_t>> ReadKnobKeyValues(std::string_view dir,
                                                          std::string_view file);
// Space separated words of a one-line file (cgroup.controllers).
Result<std::vector<std::string>> ReadKnobWords(std::string_view dir, std::string_view file);

// Pure parsers. `what` names the source in errors.
Result<uint64_t> ParseUintOrMax(std::string_view text, std::string_view what);
// "key value" per line (memory.stat, cpu.stat, memory.events).
Result<std::map<std::string, uint64_t>> ParseKeyValues(std::string_view text,
                                                       std::string_view what);
// Whitespace separated unsigned integers (cpuacct.usage_percpu).
Result<std::vector<uint64_t>> ParseUintList(std::string_view text, std::string_view what);

// Decimal rendering of limits: -1 (and any negative) -> "max" for v2 files.
std::string V2Limit(int64_t value);

// The rdma.max line (v1 and v2 alike) for one OCI rdma entry:
// "mlx5_1 hca_handle=3 hca_object=1000"; "" when it sets no limit.
std::string RdmaLimitLine(const std::string& device, const std::map<std::string, uint32_t>& limits);

// cgroup.procs of one cgroup, and of it and every descendant.
Result<std::vector<pid_t>> ReadProcs(std::string_view dir);
Result<std::vector<pid_t>> ReadProcsRecursive(std::string_view dir);
// Writes a pid to <dir>/cgroup.procs, retrying EINVAL briefly: a task still
// in TASK_NEW (just forked) cannot be moved yet.
Status WriteProc(std::string_view dir, pid_t pid);

// kill(2) for each pid; a pid that is already gone (ESRCH) is skipped.
Status SignalPids(const std::vector<pid_t>& pids, int signal);

// Removes a cgroup directory and the cgroups below it (deepest first),
// retrying EBUSY for a while as exiting tasks leave. A missing directory is
// not an error.
Status RemoveCgroup(const std::string& dir);

// Lexical containment: `path` equals `root` or lies below it.
bool IsWithin(std::string_view path, std::string_view root);
// Every directory from `root` (inclusive) down to `path` (inclusive);
// requires IsWithin(path, root).
std::vector<std::string> DirsFromRoot(const std::string& root, const std::string& path);

// The invariant every driver checks before touching anything: `dir` lies
// strictly below the berth root `root` of hierarchy `key`.
Status CheckConfined(const std::string& key, const std::string& dir, const std::string& root);

// mkdir of every level from the berth root (created itself only if its
// parent exists: nothing above the root is ever created) down to `dir`.
// Returns the directories it created, shallowest first.
Result<std::vector<std::string>> MakeCgroupDirs(const std::string& root, const std::string& dir);
// rmdir of `created` deepest first, ignoring errors (rollback of a failed
// Create).
void RemoveCreated(const std::vector<std::string>& created);

// Sleeps `ms` milliseconds (poll loops).
void SleepMs(int ms);

}  // namespace berth::cgroups
