#pragma once
// The four probe mechanisms, one file each; RunProbe (run_probe.cc) picks
// one and maps upstream's probe.Result onto ProbeOutcome.

#include <boost/json.hpp>
#include <chrono>

#include "agent/probes/probe.h"

namespace berth::agent::runners {

ProbeOutcome Exec(const boost::json::object& action, const ProbeTarget& target,
                  std::chrono::seconds timeout);
ProbeOutcome HttpGet(const boost::json::object& action, const ProbeTarget& target,
                     std::chrono::seconds timeout);
ProbeOutcome TcpSocket(const boost::json::object& action, const ProbeTarget& target,
                       std::chrono::seconds timeout);
ProbeOutcome Grpc(const boost::json::object& action, const ProbeTarget& target,
                  std::chrono::seconds timeout);

}  // namespace berth::agent::runners
