#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {

int Start(Context& ctx, const Args& args) {
  FlagSet flags("start");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error());
  if (Status s = ExpectArgs("start", *pos, 1, "<container-id>"); !s.ok()) return Fail(ctx, s.error());
  if (Status s = oci::StartContainer(ctx.rt, pos->front()); !s.ok()) return Fail(ctx, s.error());
  return 0;
}

}  // namespace berth::cli::runtime
