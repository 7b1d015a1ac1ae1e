#include "runtime/oci/hooks.h"

#include "common/log.h"
#include "common/process.h"

namespace berth::runtime::oci {
namespace {

Status RunHook(const Hook& hook, size_t index, std::string_view phase, const std::string& state) {
  Command cmd;
  cmd.argv = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  // argv[0] as given; execution always uses the absolute path.
  std::vector<std::string> argv = cmd.argv;
  cmd.argv[0] = hook.path;
  if (!hook.env.empty()) cmd.env = hook.env;
  cmd.stdin_data = state;
  if (hook.timeout) cmd.timeout = std::chrono::seconds(*hook.timeout);
  std::string what = "error running " + std::string(phase) + " hook #" + std::to_string(index) +
                     " (" + hook.path + ")";
  Result<CommandResult> r = RunCommand(cmd);
  if (!r.ok()) return std::move(r).error().Wrap(what);
  if (r->success()) return Ok();
  std::string detail =
      r->timed_out ? "timed out after " + std::to_string(*hook.timeout) + "s" : r->Describe();
  return Error(Errc::kFailedPrecondition,
               what + ": " + detail + ", stdout: " + r->out + ", stderr: " + r->err);
}

}  // namespace

Status RunHooks(const std::vector<Hook>& hooks, std::string_view phase, const std::string& state) {
  for (size_t i = 0; i < hooks.size(); ++i)
    BERTH_TRY(RunHook(hooks[i], i, phase, state));
  return Ok();
}

void RunHooksWarnOnly(const std::vector<Hook>& hooks, std::string_view phase,
                      const std::string& state) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    Status s = RunHook(hooks[i], i, phase, state);
    if (!s.ok()) BLOG(kWarn) << s.error().str();
  }
}

}  // namespace berth::runtime::oci
