#include "controlplane/controllers/pod_state.h"

#include "controlplane/controllers/api_util.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

const bj::object* ReadyCondition(const bj::object& pod) {
  const bj::value* status = pod.if_contains("status");
  const bj::value* conditions = status != nullptr && status->is_object()
                                    ? status->as_object().if_contains("conditions")
                                    : nullptr;
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (const bj::value& c : conditions->as_array()) {
    if (c.is_object() && StringAt(c.as_object(), {"type"}) == "Ready") return &c.as_object();
  }
  return nullptr;
}

}  // namespace

bool IsPodActive(const bj::object& pod) {
  std::string phase = StringAt(pod, {"status", "phase"});
  return phase != "Succeeded" && phase != "Failed" && !BeingDeleted(pod);
}

bool IsPodReady(const bj::object& pod) {
  const bj::object* ready = ReadyCondition(pod);
  return ready != nullptr && StringAt(*ready, {"status"}) == "True";
}

bool IsPodAvailable(const bj::object& pod, int64_t min_ready_seconds, time_t now) {
  if (!IsPodReady(pod)) return false;
  if (min_ready_seconds == 0) return true;
  time_t since = PodReadyTime(pod);
  return since >= 0 && since + min_ready_seconds < now;
}

time_t PodReadyTime(const bj::object& pod) {
  const bj::object* ready = ReadyCondition(pod);
  if (ready == nullptr || StringAt(*ready, {"status"}) != "True") return -1;
  return api::ParseRfc3339(StringAt(*ready, {"lastTransitionTime"}));
}

}  // namespace berth::controlplane::controllers
