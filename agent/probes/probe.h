#pragma once
// One run of a container probe, as kubelet's prober runs it (upstream
// pkg/kubelet/prober/prober.go runProbe and pkg/probe/...):
//   exec       CRI ExecSync with timeoutSeconds; exit 0 succeeds, any
//              other code fails with the output (stdout then stderr, at
//              most 10 KiB); a timeout fails with "command timed out: ...".
//   httpGet    GET scheme://host:port/path (host defaults to the pod IP;
//              HTTPS without certificate checks), httpHeaders, User-Agent
//              kube-probe/1.33; 2xx/3xx succeed, redirects to the same host
//              are followed (10 at most), a redirect elsewhere succeeds
//              with a warning.
//   tcpSocket  a TCP connect within timeoutSeconds.
//   grpc       grpc.health.v1.Health/Check for `service`, SERVING succeeds.
// The probe's timeoutSeconds (default 1) bounds each run.

#include <boost/json.hpp>
#include <string>

#include "agent/cri/cri_client.h"

namespace berth::controlplane::client {
class EventRecorder;
}

namespace berth::agent {

enum class ProbeKind { kStartup, kLiveness, kReadiness };
// kUnknown: the probe could not be run (no such port name, a CRI error);
// upstream throws such a result away rather than counting it.
enum class ProbeResult { kSuccess, kFailure, kUnknown };

// "Startup", "Liveness", "Readiness" (as in event messages).
const char* ProbeKindName(ProbeKind kind);

struct ProbeTarget {
  std::string pod_ip;
  std::string container_id;                        // exec
  const boost::json::object* container = nullptr;  // named ports, env for exec $(VAR)
  CriClient* cri = nullptr;                        // exec
  // Optional: the pod, which upstream's hook and missing-handler messages
  // name, and where a hook's LifecycleHTTPFallback event goes.
  const boost::json::object* pod = nullptr;
  controlplane::client::EventRecorder* events = nullptr;
};

struct ProbeOutcome {
  ProbeResult result = ProbeResult::kUnknown;
  // The output on success and failure (body, command output), the error
  // for kUnknown.
  std::string message;
  // Succeeded with a warning (an HTTP redirect to another host was not
  // followed): upstream records a ProbeWarning event with `message`.
  bool warning = false;
};

ProbeOutcome RunProbe(const boost::json::object& probe, const ProbeTarget& target);

}  // namespace berth::agent
