#pragma once
// What the endpoint controllers read of a pod's state, as upstream's
// endpointslice util reads it: whether it is terminal or terminating,
// its addresses, and whether it belongs in a Service's endpoints at all.

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/controllers/pod_state.h"

namespace berth::controlplane::controllers {

// Whether it is Ready: IsPodReady, from pod_state.h.
// The lastTransitionTime of its Ready condition; "" without one.
std::string PodReadyTransitionTime(const boost::json::object& pod);
// Phase Succeeded or Failed: its containers are done for good.
bool IsPodTerminal(const boost::json::object& pod);
// metadata.deletionTimestamp is set (graceful deletion under way).
bool IsPodTerminating(const boost::json::object& pod);
// status.podIPs[].ip in order; status.podIP alone when podIPs is empty.
std::vector<std::string> PodIps(const boost::json::object& pod);
// Upstream's ShouldPodBeInEndpoints: not terminal, has an IP, and not
// terminating unless `include_terminating`.
bool ShouldPodBeInEndpoints(const boost::json::object& pod, bool include_terminating);
// The address is IPv6 (has a colon); else IPv4.
bool IsIpv6(std::string_view ip);

}  // namespace berth::controlplane::controllers
