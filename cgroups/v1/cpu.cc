// cpu on cgroup v1 (runc's fs mapping):
//   shares                 -> cpu.shares (read back: the kernel clamps)
//   period, quota          -> cpu.cfs_period_us, cpu.cfs_quota_us
//   burst                  -> cpu.cfs_burst_us (Linux 5.14+)
//   realtimePeriod/Runtime -> cpu.rt_period_us, cpu.rt_runtime_us
//   idle                   -> cpu.idle (Linux 5.15+)

#include <cerrno>

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"

namespace berth::cgroups::v1 {

namespace {

std::string F(const char* name) {
  return std::string(kField) + "cpu." + name;
}

Status WriteShares(const std::string& dir, uint64_t shares) {
  BERTH_TRY_CTX(WriteKnob(dir, "cpu.shares", std::to_string(shares)), F("shares"));
  uint64_t got = BERTH_TRY(ReadKnobUint(dir, "cpu.shares"));
  if (got == shares) return Ok();
  return Error(Errc::kInvalidArgument, F("shares") + ": " + std::to_string(shares) +
                                           " is out of range; the " +
                                           (shares > got ? "maximum" : "minimum") +
                                           " allowed cpu-shares is " + std::to_string(got));
}

// A shorter period can be refused (EINVAL) while the old quota would then
// exceed the parent's; in that case it is retried after the quota.
Status WriteBandwidth(const std::string& dir, const CpuLimits& c) {
  std::string period = c.period.value_or(0) != 0 ? std::to_string(*c.period) : "";
  bool period_pending = false;
  if (!period.empty()) {
    Status s = WriteKnob(dir, "cpu.cfs_period_us", period);
    if (!s.ok() && (s.error().sys_errno() != EINVAL || c.quota.value_or(0) == 0)) {
      return std::move(s).error().Wrap(F("period"));
    }
    period_pending = !s.ok();
  }
  if (c.quota.value_or(0) != 0) {
    BERTH_TRY_CTX(WriteKnob(dir, "cpu.cfs_quota_us", std::to_string(*c.quota)), F("quota"));
  }
  if (period_pending) BERTH_TRY_CTX(WriteKnob(dir, "cpu.cfs_period_us", period), F("period"));
  if (c.burst) {
    BERTH_TRY_CTX(WriteKnob(dir, "cpu.cfs_burst_us", std::to_string(*c.burst)), F("burst"));
  }
  return Ok();
}

// The runtime must fit the period, so the period goes first.
Status WriteRealtime(const std::string& dir, const CpuLimits& c) {
  if (c.realtime_period.value_or(0) != 0) {
    BERTH_TRY_CTX(WriteKnob(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period)),
                  F("realtimePeriod"));
  }
  if (c.realtime_runtime.value_or(0) != 0) {
    BERTH_TRY_CTX(WriteKnob(dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime)),
                  F("realtimeRuntime"));
  }
  return Ok();
}

}  // namespace

Status ApplyCpu(const std::string& dir, const CpuLimits& c) {
  if (c.shares.value_or(0) != 0) BERTH_TRY(WriteShares(dir, *c.shares));
  BERTH_TRY(WriteBandwidth(dir, c));
  BERTH_TRY(WriteRealtime(dir, c));
  if (c.idle) BERTH_TRY_CTX(WriteKnob(dir, "cpu.idle", std::to_string(*c.idle)), F("idle"));
  return Ok();
}

// cpu.stat: nr_periods, nr_throttled, throttled_time (ns).
Status ReadCpuStats(const std::string& dir, Stats* s) {
  std::map<std::string, uint64_t> stat = BERTH_TRY(ReadKnobKeyValues(dir, "cpu.stat"));
  s->cpu.periods = stat["nr_periods"];
  s->cpu.throttled_periods = stat["nr_throttled"];
  s->cpu.throttled_time = stat["throttled_time"];
  return Ok();
}

}  // namespace berth::cgroups::v1
