// Loading kube-proxy-style rules with iptables-restore (iptables_lb.h).
#include "bench/service-lb/iptables_lb.h"

#include <chrono>

#include "bench/service-lb/kube_rules.h"
#include "common/process.h"
#include "common/strings.h"

namespace berth::bench {
namespace {

Result<CommandResult> Succeeded(const Command& cmd, const std::string& what) {
  auto result = RunCommand(cmd);
  if (!result.ok()) return std::move(result).error().Wrap(what);
  if (result->timed_out)
    return Error(Errc::kDeadlineExceeded,
                 what + ": killed after " + std::to_string(cmd.timeout->count() / 1000) + " s");
  if (!result->success())
    return Error(Errc::kInternal, what + ": " + result->Describe() + ": " + result->err);
  return result;
}

}  // namespace

IptablesLb::IptablesLb(std::string restore, std::chrono::seconds timeout)
    : restore_(std::move(restore)), timeout_(timeout) {}

Result<std::string> IptablesLb::Version() const {
  Command cmd;
  cmd.argv = {restore_, "--version"};
  auto result = BERTH_TRY(Succeeded(cmd, restore_ + " --version"));
  return std::string(Trim(result.out));
}

Result<double> IptablesLb::Restore(const std::string& text, const std::string& what) const {
  Command cmd;
  cmd.argv = {restore_, "--noflush"};
  cmd.stdin_data = text;
  cmd.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout_);
  auto start = std::chrono::steady_clock::now();
  BERTH_TRY(Succeeded(cmd, restore_ + " --noflush (" + what + ")"));
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

Result<double> IptablesLb::Program(const ServiceSet& set) const {
  return Restore(FullRestore(set), "full sync");
}

Result<double> IptablesLb::Change(ServiceSet& set, bool with_services) const {
  Service& service = set.services[set.changed];
  Service after = WithChangedEndpoint(service);
  Service before = service;
  service = after;
  return Restore(ChangeRestore(before, after, with_services ? &set : nullptr), "one change");
}

}  // namespace berth::bench
