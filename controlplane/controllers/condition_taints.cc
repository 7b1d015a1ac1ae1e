#include "controlplane/controllers/condition_taints.h"

#include <algorithm>
#include <string>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/taints.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

// The taint a condition in a status stands for (nodeConditionToTaintKeyStatusMap).
const char* ConditionTaint(const std::string& type, const std::string& status) {
  if (type == "Ready") {
    if (status == "False") return kTaintNotReady;
    if (status == "Unknown") return kTaintUnreachable;
    return nullptr;
  }
  if (status != "True") return nullptr;
  if (type == "MemoryPressure") return kTaintMemoryPressure;
  if (type == "DiskPressure") return kTaintDiskPressure;
  if (type == "NetworkUnavailable") return kTaintNetworkUnavailable;
  if (type == "PIDPressure") return kTaintPidPressure;
  return nullptr;
}

// The keys of the taints kept in step here (taintKeyToNodeConditionMap
// and the unschedulable taint).
bool Managed(const std::string& key) {
  for (const char* k : {kTaintNotReady, kTaintUnreachable, kTaintMemoryPressure, kTaintDiskPressure,
                        kTaintNetworkUnavailable, kTaintPidPressure, kTaintUnschedulable}) {
    if (key == k) return true;
  }
  return false;
}

// The taints of `from` that `set` has none of (by key and effect).
std::vector<bj::object> Missing(const std::vector<bj::object>& from,
                                const std::vector<bj::object>& set) {
  std::vector<bj::object> out;
  for (const bj::object& t : from) {
    if (std::none_of(set.begin(), set.end(), [&](const bj::object& s) { return MatchTaint(s, t); }))
      out.push_back(t);
  }
  return out;
}

}  // namespace

TaintChanges ConditionTaintChanges(const bj::object& node) {
  std::vector<bj::object> want;
  const bj::value* status = node.if_contains("status");
  const bj::value* conditions = status != nullptr && status->is_object()
                                    ? status->as_object().if_contains("conditions")
                                    : nullptr;
  if (conditions != nullptr && conditions->is_array()) {
    for (const bj::value& c : conditions->as_array()) {
      if (!c.is_object()) continue;
      const char* key =
          ConditionTaint(StringAt(c.as_object(), {"type"}), StringAt(c.as_object(), {"status"}));
      if (key != nullptr) want.push_back(MakeTaint(key, kNoSchedule));
    }
  }
  const bj::value* spec = node.if_contains("spec");
  const bj::value* unschedulable = spec != nullptr && spec->is_object()
                                       ? spec->as_object().if_contains("unschedulable")
                                       : nullptr;
  if (unschedulable != nullptr && unschedulable->is_bool() && unschedulable->as_bool()) {
    want.push_back(MakeTaint(kTaintUnschedulable, kNoSchedule));
  }
  std::vector<bj::object> have;
  for (const bj::object& t : TaintsOf(node)) {
    if (StringAt(t, {"effect"}) == kNoSchedule && Managed(StringAt(t, {"key"}))) have.push_back(t);
  }
  return {Missing(want, have), Missing(have, want)};
}

}  // namespace berth::controlplane::controllers
