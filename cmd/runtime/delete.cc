#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {

int Delete(Context& ctx, const Args& args) {
  bool force = false;
  FlagSet flags("delete");
  flags.Bool("force,f", &force, "forcibly delete the container if it is still running (uses SIGKILL)");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error());
  if (Status s = ExpectArgs("delete", *pos, 1, "<container-id>"); !s.ok()) return Fail(ctx, s.error());
  if (Status s = oci::DeleteContainer(ctx.rt, pos->front(), force); !s.ok()) return Fail(ctx, s.error());
  return 0;
}

}  // namespace berth::cli::runtime
