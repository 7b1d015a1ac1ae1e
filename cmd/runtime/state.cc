#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {

int State(Context& ctx, const Args& args) {
  FlagSet flags("state");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error());
  if (Status s = ExpectArgs("state", *pos, 1, "<container-id>"); !s.ok()) return Fail(ctx, s.error());
  Result<oci::ContainerInfo> info = oci::GetContainer(ctx.rt, pos->front());
  if (!info.ok()) return Fail(ctx, info.error());
  // runc prints an empty owner here (and the real one in `list`).
  Print(oci::RuncStateJson(info->state, info->status, "", true));
  return 0;
}

}  // namespace berth::cli::runtime
