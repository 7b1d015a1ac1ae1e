#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {

int Start(Context& ctx, const Args& args) {
  FlagSet flags("start");
  Result<std::string> id = ParseContainerId(flags, args, "start");
  if (!id.ok()) return Fail(ctx, id.error());
  if (Status s = oci::StartContainer(ctx.rt, *id); !s.ok()) return Fail(ctx, s.error());
  return 0;
}

}  // namespace berth::cli::runtime
