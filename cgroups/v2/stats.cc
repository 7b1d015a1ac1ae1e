// Usage of a cgroup v2 subtree, in runc's (v1-shaped) stats layout:
//   memory.stat (raw; cache = "file"), memory.current/max/peak,
//   memory.swap.current/max (reported as memory+swap, as v1 does),
//   memory.events (failcnt = "max", oom, oom_kill), cpu.stat (usec -> ns),
//   pids.current/max, io.stat (rbytes/wbytes/rios/wios -> Read/Write),
//   hugetlb.<size>.current/events, cpuset.cpus/mems.effective.
// A controller that is not enabled leaves its part zero.

#include <cerrno>

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"
#include "common/file.h"
#include "common/strings.h"

namespace berth::cgroups::v2 {

namespace {

// A file that may be absent (controller not enabled, kernel too old).
template <class T>
Result<std::optional<T>> Optional(Result<T> r) {
  if (r.ok()) return std::optional<T>(std::move(r).value());
  if (r.error().sys_errno() == ENOENT) return std::optional<T>();
  return std::move(r).error();
}

Status ReadMemory(const std::string& dir, Stats* s) {
  auto stat = BERTH_TRY(Optional(ReadKnobKeyValues(dir, "memory.stat")));
  if (!stat) return Ok();
  MemoryStats& m = s->memory;
  m.raw = *stat;
  m.cache = m.raw["file"];
  m.use_hierarchy = true;  // v2 is always hierarchical
  m.usage.usage = BERTH_TRY(ReadKnobUint(dir, "memory.current"));
  m.usage.limit = BERTH_TRY(ReadKnobUint(dir, "memory.max"));
  m.usage.max = BERTH_TRY(Optional(ReadKnobUint(dir, "memory.peak"))).value_or(0);
  auto swap = BERTH_TRY(Optional(ReadKnobUint(dir, "memory.swap.current")));
  if (swap) {
    m.swap.usage = *swap + m.usage.usage;
    uint64_t swap_max = BERTH_TRY(ReadKnobUint(dir, "memory.swap.max"));
    m.swap.limit = swap_max == kMax || m.usage.limit == kMax ? kMax : swap_max + m.usage.limit;
    m.swap.max = BERTH_TRY(Optional(ReadKnobUint(dir, "memory.swap.peak"))).value_or(0);
  }
  auto events = BERTH_TRY(Optional(ReadKnobKeyValues(dir, "memory.events")));
  if (events) {
    m.usage.failcnt = (*events)["max"];
    s->oom = (*events)["oom"];
    s->oom_kill = (*events)["oom_kill"];
  }
  return Ok();
}

Status ReadCpu(const std::string& dir, Stats* s) {
  auto stat = BERTH_TRY(Optional(ReadKnobKeyValues(dir, "cpu.stat")));
  if (!stat) return Ok();
  CpuStats& c = s->cpu;
  c.total = (*stat)["usage_usec"] * 1000;
  c.user = (*stat)["user_usec"] * 1000;
  c.kernel = (*stat)["system_usec"] * 1000;
  c.periods = (*stat)["nr_periods"];
  c.throttled_periods = (*stat)["nr_throttled"];
  c.throttled_time = (*stat)["throttled_usec"] * 1000;
  return Ok();
}

Status ReadPids(const std::string& dir, Stats* s) {
  auto current = BERTH_TRY(Optional(ReadKnobUint(dir, "pids.current")));
  if (!current) return Ok();
  s->pids.current = *current;
  uint64_t max = BERTH_TRY(ReadKnobUint(dir, "pids.max"));
  s->pids.limit = max == kMax ? 0 : max;
  return Ok();
}

Status ReadCpuset(const std::string& dir, Stats* s) {
  auto cpus = BERTH_TRY(Optional(ReadKnob(dir, "cpuset.cpus.effective")));
  if (cpus) s->cpuset.cpus = BERTH_TRY(ParseCpuList(*cpus));
  auto mems = BERTH_TRY(Optional(ReadKnob(dir, "cpuset.mems.effective")));
  if (mems) s->cpuset.mems = BERTH_TRY(ParseCpuList(*mems));
  return Ok();
}

Status ReadHugetlb(const std::string& dir, Stats* s) {
  for (const std::string& name : BERTH_TRY(ListDir(dir))) {
    // hugetlb.<size>.current (not .rsvd.current)
    std::vector<std::string> parts = Split(name, '.');
    if (parts.size() != 3 || parts[0] != "hugetlb" || parts[2] != "current") continue;
    HugetlbStats& h = s->hugetlb[parts[1]];
    h.usage = BERTH_TRY(ReadKnobUint(dir, name));
    auto events = BERTH_TRY(Optional(ReadKnobKeyValues(dir, "hugetlb." + parts[1] + ".events")));
    if (events) h.failcnt = (*events)["max"];
  }
  return Ok();
}

}  // namespace

// "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per line.
Status ParseIoStat(std::string_view text, Stats* s) {
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.empty()) continue;
    std::vector<std::string> dev = Split(f[0], ':');
    if (dev.size() != 2) continue;
    uint64_t major = BERTH_TRY(ParseInt<uint64_t>(dev[0], "io.stat major"));
    uint64_t minor = BERTH_TRY(ParseInt<uint64_t>(dev[1], "io.stat minor"));
    for (size_t i = 1; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string::npos) continue;
      std::string key = f[i].substr(0, eq);
      std::vector<BlkioEntry>* table = key == "rbytes" || key == "wbytes" ? &s->io_service_bytes
                                       : key == "rios" || key == "wios"   ? &s->io_serviced
                                                                          : nullptr;
      if (table == nullptr) continue;
      uint64_t value = BERTH_TRY(ParseInt<uint64_t>(f[i].substr(eq + 1), "io.stat " + key));
      table->push_back({major, minor, key[0] == 'r' ? "Read" : "Write", value});
    }
  }
  return Ok();
}

Result<Stats> ReadStats(const std::string& dir) {
  Stats s;
  BERTH_TRY(ReadMemory(dir, &s));
  BERTH_TRY(ReadCpu(dir, &s));
  BERTH_TRY(ReadPids(dir, &s));
  BERTH_TRY(ReadCpuset(dir, &s));
  BERTH_TRY(ReadHugetlb(dir, &s));
  auto io = BERTH_TRY(Optional(ReadKnob(dir, "io.stat")));
  if (io) BERTH_TRY(ParseIoStat(*io, &s));
  return s;
}

Result<uint64_t> ReadOomKills(const std::string& dir) {
  auto events = BERTH_TRY(Optional(ReadKnobKeyValues(dir, "memory.events")));
  return events ? (*events)["oom_kill"] : 0;
}

}  // namespace berth::cgroups::v2
