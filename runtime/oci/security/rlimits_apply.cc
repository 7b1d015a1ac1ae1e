// Applying rlimits (prlimit(2)) and oom_score_adj (proc(5)), with the
// clamping described in rlimits.h for hosts without CAP_SYS_RESOURCE.

#include <sys/resource.h>

#include <algorithm>
#include <string>

#include "common/file.h"
#include "common/strings.h"
#include "runtime/oci/security/rlimits.h"

namespace berth::runtime::security {
namespace {

// glibc types the resource as an enum under _GNU_SOURCE.
__rlimit_resource Resource(const Rlimit& limit) {
  return static_cast<__rlimit_resource>(limit.resource);
}

std::string Target(const Rlimit& limit, pid_t pid) {
  return pid == 0 ? limit.name : limit.name + " of pid " + std::to_string(pid);
}

std::string Value(rlim_t v) {
  return v == RLIM_INFINITY ? "unlimited" : std::to_string(v);
}

// Called after prlimit refused `limit` with EPERM: if that was a raise of
// the hard limit, retries with the current hard limit.
Status ClampHardLimit(const Rlimit& limit, pid_t pid, std::vector<std::string>* warnings) {
  rlimit current{};
  if (::prlimit(pid, Resource(limit), nullptr, &current) != 0) {
    return Error::Sys("prlimit", Target(limit, pid));
  }
  if (limit.hard <= current.rlim_max) return Error::Sys("prlimit", Target(limit, pid), EPERM);
  rlimit clamped{std::min<rlim_t>(limit.soft, current.rlim_max), current.rlim_max};
  if (::prlimit(pid, Resource(limit), &clamped, nullptr) != 0) {
    return Error::Sys("prlimit", Target(limit, pid));
  }
  if (warnings) {
    warnings->push_back("rlimit " + limit.name + ": raising the hard limit to " +
                        Value(limit.hard) + " needs CAP_SYS_RESOURCE; kept hard limit " +
                        Value(clamped.rlim_max) + ", soft limit " + Value(clamped.rlim_cur) +
                        " (requested " + Value(limit.soft) + ")");
  }
  return Ok();
}

Status ApplyRlimit(const Rlimit& limit, pid_t pid, std::vector<std::string>* warnings) {
  rlimit wanted{limit.soft, limit.hard};
  if (::prlimit(pid, Resource(limit), &wanted, nullptr) == 0) return Ok();
  if (errno != EPERM) return Error::Sys("prlimit", Target(limit, pid));
  return ClampHardLimit(limit, pid, warnings);
}

std::string OomPath(pid_t pid) {
  return pid == 0 ? "/proc/self/oom_score_adj" : "/proc/" + std::to_string(pid) + "/oom_score_adj";
}

Result<int> ReadOomScoreAdj(const std::string& path) {
  std::string text = BERTH_TRY(ReadFile(path));
  return ParseInt<int>(text, path);
}

}  // namespace

Status ApplyRlimits(const std::vector<Rlimit>& limits, pid_t pid,
                    std::vector<std::string>* warnings) {
  for (const Rlimit& limit : limits)
    BERTH_TRY(ApplyRlimit(limit, pid, warnings));
  return Ok();
}

Status ApplyOomScoreAdj(int value, pid_t pid, std::vector<std::string>* warnings) {
  if (value < -1000 || value > 1000) {
    return Error(Errc::kInvalidArgument,
                 "oomScoreAdj: value " + std::to_string(value) + " out of range (-1000 to 1000)");
  }
  std::string path = OomPath(pid);
  Status written = WriteExisting(path, std::to_string(value));
  if (written) return Ok();
  int err = written.error().sys_errno();
  if (err != EPERM && err != EACCES) return written;
  // Lowering below the floor needs CAP_SYS_RESOURCE: keep the current value.
  int current = BERTH_TRY(ReadOomScoreAdj(path));
  if (value >= current) return written;
  if (warnings) {
    warnings->push_back("oomScoreAdj: lowering oom_score_adj to " + std::to_string(value) +
                        " needs CAP_SYS_RESOURCE; kept " + std::to_string(current));
  }
  return Ok();
}

}  // namespace berth::runtime::security
