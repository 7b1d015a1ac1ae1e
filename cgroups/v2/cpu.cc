// cpu and cpuset on cgroup v2 (runc's fs2 mapping):
//   shares          -> cpu.weight (CpuSharesToWeight)
//   quota, period   -> cpu.max "<quota|max> <period>"
//   burst           -> cpu.max.burst
//   idle            -> cpu.idle
//   cpus, mems      -> cpuset.cpus, cpuset.mems
// An update naming only one of quota/period keeps the other as it is (runc
// 1.1 resets the quota to "max" there). realtimeRuntime/realtimePeriod have
// no v2 knob: berth refuses them rather than ignore a limit.

#include <cerrno>

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"
#include "common/strings.h"

namespace berth::cgroups::v2 {

namespace {

std::string F(const char* name) {
  return std::string(kField) + "cpu." + name;
}

// The quota and period in force, from "max 100000" / "50000 100000".
Result<std::pair<std::string, std::string>> CurrentMax(const Target& t) {
  std::string text = BERTH_TRY(ReadKnob(t.dir, "cpu.max"));
  std::vector<std::string> f = SplitNonEmpty(std::string(Trim(text)), ' ');
  if (f.size() != 2) {
    return Error(Errc::kInvalidArgument,
                 KnobPath(t.dir, "cpu.max") + ": malformed \"" + text + "\"");
  }
  return std::make_pair(f[0], f[1]);
}

Result<std::string> CpuMaxValue(const Target& t, const CpuLimits& c) {
  std::string quota, period;
  if (!c.quota || !c.period) std::tie(quota, period) = BERTH_TRY(CurrentMax(t));
  if (c.quota) quota = *c.quota > 0 ? std::to_string(*c.quota) : "max";
  if (c.period) period = std::to_string(*c.period);
  return quota + " " + period;
}

Status WriteBandwidth(const Target& t, const CpuLimits& c) {
  bool bandwidth = c.quota.value_or(0) != 0 || c.period.value_or(0) != 0;
  // A burst larger than the current quota allows is refused (EINVAL) until
  // the new quota is in: retry it afterwards, as runc does.
  bool burst_pending = false;
  if (c.burst) {
    Status s = WriteKnob(t.dir, "cpu.max.burst", std::to_string(*c.burst));
    if (!s.ok() && !(s.error().sys_errno() == EINVAL && bandwidth)) {
      return std::move(s).error().Wrap(F("burst"));
    }
    burst_pending = !s.ok();
  }
  if (bandwidth) {
    CpuLimits effective = c;
    if (c.quota.value_or(0) == 0) effective.quota.reset();
    if (c.period.value_or(0) == 0) effective.period.reset();
    std::string value = BERTH_TRY(CpuMaxValue(t, effective));
    BERTH_TRY_CTX(WriteKnob(t.dir, "cpu.max", value), F(c.quota ? "quota" : "period"));
  }
  if (burst_pending) {
    BERTH_TRY_CTX(WriteKnob(t.dir, "cpu.max.burst", std::to_string(*c.burst)), F("burst"));
  }
  return Ok();
}

}  // namespace

Status ApplyCpu(const Target& t, const CpuLimits& c) {
  if (c.realtime_runtime || c.realtime_period) {
    return Error(Errc::kInvalidArgument,
                 F(c.realtime_runtime ? "realtimeRuntime" : "realtimePeriod") +
                     ": cgroup v2 has no real-time bandwidth control (cpu.rt_* are v1 only)");
  }
  bool set = c.shares.value_or(0) != 0 || c.quota.value_or(0) != 0 || c.period.value_or(0) != 0 ||
             c.burst || c.idle;
  if (!set) return Ok();
  const char* first = c.shares   ? "shares"
                      : c.quota  ? "quota"
                      : c.period ? "period"
                      : c.burst  ? "burst"
                                 : "idle";
  BERTH_TRY(t.Require(std::string("cpu.") + first, "cpu"));
  if (c.idle) BERTH_TRY_CTX(WriteKnob(t.dir, "cpu.idle", std::to_string(*c.idle)), F("idle"));
  if (c.shares.value_or(0) != 0) {
    std::string weight = std::to_string(CpuSharesToWeight(*c.shares));
    BERTH_TRY_CTX(WriteKnob(t.dir, "cpu.weight", weight), F("shares"));
  }
  return WriteBandwidth(t, c);
}

Status ApplyCpuset(const Target& t, const CpuLimits& c) {
  if (c.cpus.empty() && c.mems.empty()) return Ok();
  BERTH_TRY(t.Require(c.cpus.empty() ? "cpu.mems" : "cpu.cpus", "cpuset"));
  if (!c.cpus.empty()) BERTH_TRY_CTX(WriteKnob(t.dir, "cpuset.cpus", c.cpus), F("cpus"));
  if (!c.mems.empty()) BERTH_TRY_CTX(WriteKnob(t.dir, "cpuset.mems", c.mems), F("mems"));
  return Ok();
}

}  // namespace berth::cgroups::v2
