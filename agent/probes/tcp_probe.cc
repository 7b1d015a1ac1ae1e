// tcpSocket probes (upstream pkg/probe/tcp).

#include "agent/container/object_fields.h"
#include "agent/probes/net_client.h"
#include "agent/probes/port.h"
#include "agent/probes/runners.h"

namespace berth::agent::runners {

ProbeOutcome TcpSocket(const boost::json::object& action, const ProbeTarget& target,
                       std::chrono::seconds timeout) {
  Result<int> port = ResolveContainerPort(action.if_contains("port"), target.container);
  if (!port.ok()) return {ProbeResult::kUnknown, port.error().message()};
  std::string host = fields::StringAt(&action, "host");
  if (host.empty()) host = target.pod_ip;
  Status s = TcpCheck(host, *port, std::chrono::steady_clock::now() + timeout);
  if (!s.ok()) return {ProbeResult::kFailure, s.error().message()};
  return {ProbeResult::kSuccess, ""};
}

}  // namespace berth::agent::runners
