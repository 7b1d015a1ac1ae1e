// unified on cgroup v2: raw "<controller>.<knob>" -> value writes, applied
// after every typed field so they can refine them (memory.high, memory.min,
// memory.oom.group, ...). A key must name a file of this cgroup: no '/',
// no "..", and its controller must be available here.

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"

namespace berth::cgroups::v2 {

namespace {

Status CheckKey(const Target& t, const std::string& key, const std::string& field) {
  size_t dot = key.find('.');
  if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos ||
      dot == std::string::npos || dot == 0 || dot + 1 == key.size()) {
    return Error(Errc::kInvalidArgument,
                 field + ": invalid key (want \"<controller>.<file>\", no '/' or \"..\")");
  }
  std::string controller = key.substr(0, dot);
  if (controller == "cgroup") return Ok();
  if (!t.Has(controller)) BERTH_TRY(t.Require("unified." + key, controller));
  return Ok();
}

}  // namespace

Status ApplyUnified(const Target& t, const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified) {
    std::string field = std::string(kField) + "unified." + key;
    BERTH_TRY(CheckKey(t, key, field));
    if (!KnobExists(t.dir, key)) {
      return Error(Errc::kInvalidArgument,
                   field + ": no such cgroup file `" + KnobPath(t.dir, key) + "`");
    }
    BERTH_TRY_CTX(WriteKnob(t.dir, key, value), field);
  }
  return Ok();
}

}  // namespace berth::cgroups::v2
