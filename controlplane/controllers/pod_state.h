#pragma once
// What workload controllers read from a pod's status, as upstream's
// podutil and controller helpers read it: whether it still counts
// (active), is Ready, and is available (Ready for minReadySeconds).
// Timestamps are the apiserver's RFC 3339 seconds.

#include <boost/json.hpp>
#include <ctime>
#include <string>

namespace berth::controlplane::controllers {

// Neither Succeeded nor Failed, and not being deleted.
bool IsPodActive(const boost::json::object& pod);
// The Ready condition is True.
bool IsPodReady(const boost::json::object& pod);
// Ready, and for at least `min_ready_seconds` before `now` (any Ready pod
// when it is 0).
bool IsPodAvailable(const boost::json::object& pod, int64_t min_ready_seconds, time_t now);
// When the pod became Ready; -1 when it is not, or the time is unknown.
time_t PodReadyTime(const boost::json::object& pod);

}  // namespace berth::controlplane::controllers
