// memory on cgroup v2 (runc's fs2 mapping):
//   limit       -> memory.max ("max" for -1)
//   swap        -> memory.swap.max = swap - limit (OCI swap is memory+swap)
//   reservation -> memory.low
// memory.high and memory.min have no OCI field; set them through unified.
// kernel, kernelTCP, swappiness and disableOOMKiller have no v2 knob: they
// are ignored with a log line, as runc does.

#include <cerrno>

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"
#include "common/log.h"

namespace berth::cgroups::v2 {

namespace {

std::string F(const char* name) {
  return std::string(kField) + "memory." + name;
}

void LogIgnored(const MemoryLimits& m) {
  if (m.kernel || m.kernel_tcp) {
    BLOG(kDebug) << "cgroup v2: ignoring memory.kernel/kernelTCP (kernel memory is always "
                    "accounted in memory.max)";
  }
  if (m.swappiness) {
    BLOG(kWarn) << "cgroup v2 has no memory.swappiness; ignoring " << F("swappiness");
  }
  if (m.disable_oom_killer.value_or(false)) {
    BLOG(kWarn) << "cgroup v2 cannot disable the OOM killer; ignoring " << F("disableOOMKiller");
  }
}

// checkBeforeUpdate: refuse a limit at or below the current usage rather
// than have the kernel reclaim or OOM-kill to meet it.
Status CheckUsage(const Target& t, int64_t limit) {
  if (limit <= 0) return Ok();
  uint64_t usage = BERTH_TRY(ReadKnobUint(t.dir, "memory.current"));
  if (static_cast<uint64_t>(limit) <= usage) {
    return Error(Errc::kFailedPrecondition, F("limit") + ": rejecting memory limit " +
                                                std::to_string(limit) +
                                                " at or below the current usage " +
                                                std::to_string(usage) + " (checkBeforeUpdate)");
  }
  return Ok();
}

// The limit the swap conversion subtracts: the new one, or (for an update
// naming only swap) the one in force.
Result<int64_t> EffectiveLimit(const Target& t, const MemoryLimits& m) {
  if (m.limit.value_or(0) != 0 || m.swap.value_or(0) <= 0) return m.limit.value_or(0);
  uint64_t current = BERTH_TRY(ReadKnobUint(t.dir, "memory.max"));
  return current == kMax ? -1 : static_cast<int64_t>(current);
}

Status WriteSwap(const Target& t, const MemoryLimits& m) {
  int64_t limit = BERTH_TRY(EffectiveLimit(t, m));
  int64_t swap = BERTH_TRY_CTX(MemorySwapToV2(m.swap.value_or(0), limit), F("swap"));
  std::string value;
  if (swap != 0) value = V2Limit(swap);
  if (swap == 0 && m.swap.value_or(0) > 0) value = "0";  // swap == limit: no swap at all
  if (value.empty()) return Ok();
  Status s = WriteKnob(t.dir, "memory.swap.max", value);
  // Without swap accounting the file is missing; "no limit" and "no swap"
  // then hold anyway.
  if (!s.ok() && s.error().sys_errno() == ENOENT && (value == "max" || value == "0")) return Ok();
  if (!s.ok()) return std::move(s).error().Wrap(F("swap"));
  return Ok();
}

}  // namespace

Status ApplyMemory(const Target& t, const MemoryLimits& m) {
  LogIgnored(m);
  bool set = m.limit.value_or(0) != 0 || m.swap.value_or(0) != 0 || m.reservation.value_or(0) != 0;
  if (!set) return Ok();
  const char* first = m.limit ? "limit" : m.swap ? "swap" : "reservation";
  BERTH_TRY(t.Require(std::string("memory.") + first, "memory"));
  if (m.check_before_update.value_or(false) && m.limit) BERTH_TRY(CheckUsage(t, *m.limit));
  BERTH_TRY(WriteSwap(t, m));
  if (m.limit.value_or(0) != 0) {
    BERTH_TRY_CTX(WriteKnob(t.dir, "memory.max", V2Limit(*m.limit)), F("limit"));
  }
  if (m.reservation.value_or(0) != 0) {
    BERTH_TRY_CTX(WriteKnob(t.dir, "memory.low", V2Limit(*m.reservation)), F("reservation"));
  }
  return Ok();
}

}  // namespace berth::cgroups::v2
