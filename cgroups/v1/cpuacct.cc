// cpuacct on cgroup v1: CPU time used.
//   cpuacct.usage           total ns
//   cpuacct.usage_percpu    ns per CPU
//   cpuacct.usage_all       "cpu user system" table, ns per CPU and mode
//   cpuacct.stat            "user N" / "system N" in USER_HZ ticks

#include <unistd.h>

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"
#include "common/strings.h"

namespace berth::cgroups::v1 {

namespace {

uint64_t NanosPerTick() {
  static const uint64_t ns = [] {
    long hz = ::sysconf(_SC_CLK_TCK);
    return static_cast<uint64_t>(1'000'000'000 / (hz > 0 ? hz : 100));
  }();
  return ns;
}

// "cpu user system\n0 10 20\n1 30 40\n"
Status ParseUsageAll(std::string_view text, const std::string& what, CpuStats* c) {
  std::vector<std::string> lines = SplitNonEmpty(text, '\n');
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f = SplitNonEmpty(lines[i], ' ');
    if (f.size() != 3) {
      return Error(Errc::kInvalidArgument, what + ": malformed line \"" + lines[i] + "\"");
    }
    c->percpu_user.push_back(BERTH_TRY(ParseInt<uint64_t>(f[1], what)));
    c->percpu_kernel.push_back(BERTH_TRY(ParseInt<uint64_t>(f[2], what)));
  }
  return Ok();
}

}  // namespace

Status ReadCpuacctStats(const std::string& dir, Stats* s) {
  CpuStats& c = s->cpu;
  c.total = BERTH_TRY(ReadKnobUint(dir, "cpuacct.usage"));
  std::string percpu = BERTH_TRY(ReadKnob(dir, "cpuacct.usage_percpu"));
  c.percpu = BERTH_TRY(ParseUintList(percpu, KnobPath(dir, "cpuacct.usage_percpu")));
  if (KnobExists(dir, "cpuacct.usage_all")) {
    std::string all = BERTH_TRY(ReadKnob(dir, "cpuacct.usage_all"));
    BERTH_TRY(ParseUsageAll(all, KnobPath(dir, "cpuacct.usage_all"), &c));
  }
  std::map<std::string, uint64_t> stat = BERTH_TRY(ReadKnobKeyValues(dir, "cpuacct.stat"));
  c.user = stat["user"] * NanosPerTick();
  c.kernel = stat["system"] * NanosPerTick();
  return Ok();
}

}  // namespace berth::cgroups::v1
