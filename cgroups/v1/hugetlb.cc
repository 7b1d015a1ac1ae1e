// hugetlb on cgroup v1: hugepageLimits[].limit ->
// hugetlb.<size>.limit_in_bytes (and .rsvd.limit_in_bytes where present);
// stats from hugetlb.<size>.{usage_in_bytes,max_usage_in_bytes,failcnt}.

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"
#include "common/file.h"
#include "common/strings.h"

namespace berth::cgroups::v1 {

Status ApplyHugetlb(const std::string& dir, const std::vector<HugepageLimit>& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    const HugepageLimit& h = limits[i];
    std::string field = std::string(kField) + "hugepageLimits[" + std::to_string(i) + "]";
    std::string knob = "hugetlb." + h.page_size + ".limit_in_bytes";
    if (!KnobExists(dir, knob)) {
      return Error(Errc::kInvalidArgument, field + ": huge page size \"" + h.page_size +
                                               "\" is not supported (no `" + KnobPath(dir, knob) +
                                               "`)");
    }
    BERTH_TRY_CTX(WriteKnob(dir, knob, std::to_string(h.limit)), field);
    std::string rsvd = "hugetlb." + h.page_size + ".rsvd.limit_in_bytes";
    if (KnobExists(dir, rsvd)) BERTH_TRY_CTX(WriteKnob(dir, rsvd, std::to_string(h.limit)), field);
  }
  return Ok();
}

Status ReadHugetlbStats(const std::string& dir, Stats* s) {
  for (const std::string& name : BERTH_TRY(ListDir(dir))) {
    std::vector<std::string> parts = Split(name, '.');
    if (parts.size() != 3 || parts[0] != "hugetlb" || parts[2] != "usage_in_bytes") continue;
    std::string prefix = "hugetlb." + parts[1] + ".";
    HugetlbStats& h = s->hugetlb[parts[1]];
    h.usage = BERTH_TRY(ReadKnobUint(dir, name));
    h.max = BERTH_TRY(ReadKnobUint(dir, prefix + "max_usage_in_bytes"));
    h.failcnt = BERTH_TRY(ReadKnobUint(dir, prefix + "failcnt"));
  }
  return Ok();
}

}  // namespace berth::cgroups::v1
