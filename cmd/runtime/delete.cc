#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {

int Delete(Context& ctx, const Args& args) {
  bool force = false;
  FlagSet flags("delete");
  flags.Bool("force,f", &force,
             "forcibly delete the container if it is still running (uses SIGKILL)");
  Result<std::string> id = ParseContainerId(flags, args, "delete");
  if (!id.ok()) return Fail(ctx, id.error());
  if (Status s = oci::DeleteContainer(ctx.rt, *id, force); !s.ok()) return Fail(ctx, s.error());
  return 0;
}

}  // namespace berth::cli::runtime
