// `pause` and `resume`: freeze and thaw every process of a container.

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {
namespace {

int Freezer(Context& ctx, const Args& args, const char* verb,
            Status (*op)(const oci::RuntimeOptions&, const std::string&)) {
  FlagSet flags(verb);
  Result<std::string> id = ParseContainerId(flags, args, verb);
  if (!id.ok()) return Fail(ctx, id.error());
  if (Status s = op(ctx.rt, *id); !s.ok()) return Fail(ctx, s.error());
  return 0;
}

}  // namespace

int Pause(Context& ctx, const Args& args) {
  return Freezer(ctx, args, "pause", oci::PauseContainer);
}
int Resume(Context& ctx, const Args& args) {
  return Freezer(ctx, args, "resume", oci::ResumeContainer);
}

}  // namespace berth::cli::runtime
