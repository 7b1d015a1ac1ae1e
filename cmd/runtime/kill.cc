#include <signal.h>

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {

int Kill(Context& ctx, const Args& args) {
  bool all = false;
  FlagSet flags("kill");
  flags.Bool("all,a", &all, "send the specified signal to all processes inside the container");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error());
  if (pos->empty() || pos->size() > 2) {
    return Fail(ctx, Error(Errc::kInvalidArgument,
                           "usage: berth-runc kill [--all] <container-id> [signal]"));
  }
  int signal = SIGTERM;
  if (pos->size() == 2) {
    Result<int> parsed = ParseSignal((*pos)[1]);
    if (!parsed.ok()) return Fail(ctx, parsed.error());
    signal = *parsed;
  }
  if (Status s = oci::KillContainer(ctx.rt, pos->front(), signal, all); !s.ok())
    return Fail(ctx, s.error());
  return 0;
}

}  // namespace berth::cli::runtime
