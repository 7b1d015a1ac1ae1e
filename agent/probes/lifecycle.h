#pragma once
// postStart / preStop handlers, as kubelet runs them (upstream
// pkg/kubelet/lifecycle/handlers.go):
//   exec     CRI ExecSync in the container, without a timeout of its own;
//            a non-zero exit fails.
//   httpGet  GET as a probe's (User-Agent kube-lifecycle/1.33); only a
//            failed request fails, the status code does not matter. An
//            HTTPS request answered in plain HTTP is retried over HTTP
//            (Warning LifecycleHTTPFallback on the pod when that works).
//   sleep    waits `seconds`.

#include <boost/json.hpp>
#include <chrono>

#include "agent/probes/probe.h"
#include "common/error.h"

namespace berth::agent {

// The error's message is upstream's, e.g. `Exec lifecycle hook ([sh -c
// exit 3]) for Container "app" in Pod "web_default(uid)" failed - error:
// command 'sh -c exit 3' exited with 3: , message: ""`: the text of the
// FailedPostStartHook event. (Upstream's FailedPreStopHook event says only
// "PreStopHook failed", keeping output that may hold secrets out of
// events.) When `deadline` passes first the code is kDeadlineExceeded:
// upstream stops waiting for a preStop hook at the end of the grace period
// and records nothing. time_point::max() means no deadline.
Status RunLifecycleHandler(const boost::json::object& handler, const ProbeTarget& target,
                           std::chrono::steady_clock::time_point deadline);

}  // namespace berth::agent
