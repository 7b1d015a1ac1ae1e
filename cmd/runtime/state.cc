#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {

int State(Context& ctx, const Args& args) {
  FlagSet flags("state");
  Result<std::string> id = ParseContainerId(flags, args, "state");
  if (!id.ok()) return Fail(ctx, id.error());
  Result<oci::ContainerInfo> info = oci::GetContainer(ctx.rt, *id);
  if (!info.ok()) return Fail(ctx, info.error());
  // runc prints an empty owner here (and the real one in `list`).
  Print(oci::RuncStateJson(info->state, info->status, "", true));
  return 0;
}

}  // namespace berth::cli::runtime
