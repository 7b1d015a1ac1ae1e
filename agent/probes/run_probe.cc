#include "agent/container/object_fields.h"
#include "agent/probes/go_format.h"
#include "agent/probes/probe.h"
#include "agent/probes/runners.h"

namespace berth::agent {

const char* ProbeKindName(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kStartup:
      return "Startup";
    case ProbeKind::kLiveness:
      return "Liveness";
    case ProbeKind::kReadiness:
      return "Readiness";
  }
  return "Unknown";
}

ProbeOutcome RunProbe(const boost::json::object& probe, const ProbeTarget& target) {
  int64_t seconds = fields::IntAt(&probe, "timeoutSeconds").value_or(1);
  std::chrono::seconds timeout(seconds > 0 ? seconds : 1);
  if (const boost::json::object* a = fields::ObjectAt(&probe, "exec")) {
    return runners::Exec(*a, target, timeout);
  }
  if (const boost::json::object* a = fields::ObjectAt(&probe, "httpGet")) {
    return runners::HttpGet(*a, target, timeout);
  }
  if (const boost::json::object* a = fields::ObjectAt(&probe, "tcpSocket")) {
    return runners::TcpSocket(*a, target, timeout);
  }
  if (const boost::json::object* a = fields::ObjectAt(&probe, "grpc")) {
    return runners::Grpc(*a, target, timeout);
  }
  return {ProbeResult::kUnknown, "missing probe handler for " + gofmt::PodDesc(target.pod) + ":" +
                                     fields::StringAt(target.container, "name")};
}

}  // namespace berth::agent
