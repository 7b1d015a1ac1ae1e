// memory on cgroup v1 (runc's fs mapping):
//   limit       -> memory.limit_in_bytes
//   swap        -> memory.memsw.limit_in_bytes (memory+swap; must stay >=
//                  the limit at every instant, so the write order depends on
//                  whether the limits grow or shrink)
//   reservation -> memory.soft_limit_in_bytes
//   swappiness  -> memory.swappiness
//   disableOOMKiller -> memory.oom_control
// kernel/kernelTCP are ignored: Linux 5.16 dropped kmem limits (runc 1.1
// ignores them too); useHierarchy is always on in modern kernels.
// 0 means unset for limit, swap and reservation, as in runc.

#include <cerrno>

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"
#include "common/log.h"

namespace berth::cgroups::v1 {

namespace {

constexpr const char* kLimit = "memory.limit_in_bytes";
constexpr const char* kSwap = "memory.memsw.limit_in_bytes";

std::string F(const char* name) {
  return std::string(kField) + "memory." + name;
}

// EBUSY from the kernel means the new limit is below the current usage.
Status WriteLimit(const std::string& dir, int64_t limit) {
  if (limit == 0) return Ok();
  Status s = WriteKnob(dir, kLimit, std::to_string(limit));
  if (s.ok()) return Ok();
  if (s.error().sys_errno() != EBUSY) return std::move(s).error().Wrap(F("limit"));
  uint64_t usage = BERTH_TRY(ReadKnobUint(dir, "memory.usage_in_bytes"));
  uint64_t peak = BERTH_TRY(ReadKnobUint(dir, "memory.max_usage_in_bytes"));
  return Error(Errc::kFailedPrecondition,
               F("limit") + ": unable to set memory limit to " + std::to_string(limit) +
                   " (current usage: " + std::to_string(usage) +
                   ", peak usage: " + std::to_string(peak) + "): " + s.error().str());
}

Status WriteSwap(const std::string& dir, int64_t swap) {
  if (swap == 0) return Ok();
  BERTH_TRY_CTX(WriteKnob(dir, kSwap, std::to_string(swap)), F("swap"));
  return Ok();
}

// The kernel refuses memsw < limit at any moment: raising both writes
// memsw first, lowering both writes the limit first.
Status WriteLimitAndSwap(const std::string& dir, const MemoryLimits& m) {
  int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
  // Unlimited memory with swap unset means unlimited swap too.
  if (limit == -1 && swap == 0 && KnobExists(dir, kSwap)) swap = -1;
  if (limit != 0 && swap != 0) {
    uint64_t current = BERTH_TRY(ReadKnobUint(dir, kLimit));
    if (swap == -1 || current < static_cast<uint64_t>(swap)) {
      BERTH_TRY(WriteSwap(dir, swap));
      return WriteLimit(dir, limit);
    }
  }
  BERTH_TRY(WriteLimit(dir, limit));
  return WriteSwap(dir, swap);
}

void LogIgnored(const MemoryLimits& m) {
  if (m.kernel || m.kernel_tcp) {
    BLOG(kDebug) << "cgroup v1: ignoring memory.kernel/kernelTCP (kernel memory limits are "
                    "gone since Linux 5.16; runc ignores them too)";
  }
  if (m.use_hierarchy) {
    BLOG(kDebug) << "cgroup v1: ignoring memory.useHierarchy (always on)";
  }
}

}  // namespace

Status ApplyMemory(const std::string& dir, const MemoryLimits& m) {
  LogIgnored(m);
  BERTH_TRY(WriteLimitAndSwap(dir, m));
  if (m.reservation.value_or(0) != 0) {
    BERTH_TRY_CTX(WriteKnob(dir, "memory.soft_limit_in_bytes", std::to_string(*m.reservation)),
                  F("reservation"));
  }
  if (m.disable_oom_killer) {
    BERTH_TRY_CTX(WriteKnob(dir, "memory.oom_control", *m.disable_oom_killer ? "1" : "0"),
                  F("disableOOMKiller"));
  }
  if (m.swappiness) {
    BERTH_TRY_CTX(WriteKnob(dir, "memory.swappiness", std::to_string(*m.swappiness)),
                  F("swappiness"));
  }
  return Ok();
}

namespace {

// memory[.<name>].{usage_in_bytes,max_usage_in_bytes,failcnt,limit_in_bytes};
// swap and kmem files are optional in the kernel.
Status ReadEntry(const std::string& dir, const std::string& name, MemoryEntry* e) {
  std::string prefix = name.empty() ? "memory." : "memory." + name + ".";
  if (!name.empty() && !KnobExists(dir, prefix + "usage_in_bytes")) return Ok();
  e->usage = BERTH_TRY(ReadKnobUint(dir, prefix + "usage_in_bytes"));
  e->max = BERTH_TRY(ReadKnobUint(dir, prefix + "max_usage_in_bytes"));
  e->failcnt = BERTH_TRY(ReadKnobUint(dir, prefix + "failcnt"));
  e->limit = BERTH_TRY(ReadKnobUint(dir, prefix + "limit_in_bytes"));
  return Ok();
}

}  // namespace

Status ReadMemoryStats(const std::string& dir, Stats* s) {
  MemoryStats& m = s->memory;
  m.raw = BERTH_TRY(ReadKnobKeyValues(dir, "memory.stat"));
  m.cache = m.raw["cache"];
  BERTH_TRY(ReadEntry(dir, "", &m.usage));
  BERTH_TRY(ReadEntry(dir, "memsw", &m.swap));
  BERTH_TRY(ReadEntry(dir, "kmem", &m.kernel));
  BERTH_TRY(ReadEntry(dir, "kmem.tcp", &m.kernel_tcp));
  m.use_hierarchy = BERTH_TRY(ReadKnobUint(dir, "memory.use_hierarchy")) == 1;
  s->oom_kill = BERTH_TRY(ReadOomKills(dir));
  return Ok();
}

// memory.oom_control: "oom_kill_disable 0\nunder_oom 0\noom_kill 3".
Result<uint64_t> ReadOomKills(const std::string& dir) {
  std::map<std::string, uint64_t> oom = BERTH_TRY(ReadKnobKeyValues(dir, "memory.oom_control"));
  return oom["oom_kill"];
}

}  // namespace berth::cgroups::v1
