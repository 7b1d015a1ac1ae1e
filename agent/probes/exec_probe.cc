// exec probes (upstream pkg/probe/exec and the CRI client's ExecSync).

#include <map>

#include "agent/container/expansion.h"
#include "agent/container/object_fields.h"
#include "agent/probes/go_format.h"
#include "agent/probes/runners.h"
#include "common/strings.h"

namespace berth::agent::runners {
namespace {

constexpr size_t kMaxOutput = size_t{10} * 1024;

// The command with $(VAR) expanded from the container's literal env values
// only (upstream ExpandContainerCommandOnlyStatic: a probe sees no
// valueFrom, downward API or service variables; those read as "").
std::vector<std::string> ProbeCommand(const boost::json::object& action,
                                      const boost::json::object* container) {
  std::vector<EnvVar> env;
  if (const boost::json::array* vars = fields::ArrayAt(container, "env")) {
    for (const boost::json::value& v : *vars) {
      env.push_back(
          {fields::StringAt(v.if_object(), "name"), fields::StringAt(v.if_object(), "value")});
    }
  }
  const boost::json::array* command = fields::ArrayAt(&action, "command");
  return command ? ExpandAll(*command, env) : std::vector<std::string>();
}

}  // namespace

ProbeOutcome Exec(const boost::json::object& action, const ProbeTarget& target,
                  std::chrono::seconds timeout) {
  if (target.cri == nullptr) return {ProbeResult::kUnknown, "exec probe: no CRI client"};
  std::vector<std::string> cmd = ProbeCommand(action, target.container);
  Result<v1::ExecSyncResponse> resp = target.cri->ExecSync(target.container_id, cmd, timeout);
  if (!resp.ok()) {
    if (resp.error().code() == Errc::kDeadlineExceeded) {
      return {ProbeResult::kFailure, "command timed out: " + gofmt::Quote(Join(cmd, " ")) +
                                         " timed out after " + gofmt::Duration(timeout.count())};
    }
    return {ProbeResult::kUnknown, resp.error().str()};
  }
  std::string output = resp->stdout() + resp->stderr();
  if (output.size() > kMaxOutput) output.resize(kMaxOutput);
  return {resp->exit_code() == 0 ? ProbeResult::kSuccess : ProbeResult::kFailure,
          std::move(output)};
}

}  // namespace berth::agent::runners
