#pragma once
// Upstream's DefaultTolerationSeconds admission plugin: a pod created
// without a toleration of the node.kubernetes.io/not-ready or
// node.kubernetes.io/unreachable NoExecute taint gets one (operator
// Exists) for --default-not-ready-toleration-seconds or
// --default-unreachable-toleration-seconds (300 each), so that its pods
// leave a failed node after five minutes (the taint eviction controller
// evicts them) rather than at once or never.

#include <boost/json.hpp>
#include <cstdint>

namespace berth::controlplane::admission {

struct TolerationDefaults {
  int64_t not_ready_seconds = 300;
  int64_t unreachable_seconds = 300;
};

// Adds the missing tolerations to `pod` (a Pod object). A toleration
// counts when its key is the taint's or empty and its effect NoExecute or
// empty, whatever its operator, value and seconds (upstream's test).
void DefaultTolerationSeconds(boost::json::object& pod, const TolerationDefaults& defaults);

}  // namespace berth::controlplane::admission
