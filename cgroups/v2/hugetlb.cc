// hugetlb on cgroup v2: hugepageLimits[].limit -> hugetlb.<size>.max, and
// hugetlb.<size>.rsvd.max where the kernel has reservation accounting (so
// reserved-but-unfaulted pages count too, as runc 1.2 does).

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"

namespace berth::cgroups::v2 {

Status ApplyHugetlb(const Target& t, const std::vector<HugepageLimit>& limits) {
  if (limits.empty()) return Ok();
  BERTH_TRY(t.Require("hugepageLimits", "hugetlb"));
  for (size_t i = 0; i < limits.size(); ++i) {
    const HugepageLimit& h = limits[i];
    std::string field = std::string(kField) + "hugepageLimits[" + std::to_string(i) + "]";
    std::string knob = "hugetlb." + h.page_size + ".max";
    if (!KnobExists(t.dir, knob)) {
      return Error(Errc::kInvalidArgument, field + ": huge page size \"" + h.page_size +
                                               "\" is not supported (no `" + KnobPath(t.dir, knob) +
                                               "`)");
    }
    BERTH_TRY_CTX(WriteKnob(t.dir, knob, std::to_string(h.limit)), field);
    std::string rsvd = "hugetlb." + h.page_size + ".rsvd.max";
    if (KnobExists(t.dir, rsvd)) {
      BERTH_TRY_CTX(WriteKnob(t.dir, rsvd, std::to_string(h.limit)), field);
    }
  }
  return Ok();
}

}  // namespace berth::cgroups::v2
