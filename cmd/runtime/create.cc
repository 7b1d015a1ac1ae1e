#include "cmd/flags.h"
#include "cmd/runtime/cli.h"

namespace berth::cli::runtime {

// Flags shared by create and run.
void AddCreateFlags(FlagSet& flags, oci::CreateOptions& opts) {
  flags.String("bundle,b", &opts.bundle, "path to the root of the bundle directory");
  flags.String("console-socket", &opts.console_socket,
               "path to an AF_UNIX socket which will receive the pty master");
  flags.String("pid-file", &opts.pid_file, "file to write the process id to");
  flags.Bool("no-pivot", &opts.no_pivot, "do not use pivot root to jail process inside rootfs");
  flags.Bool("no-new-keyring", &opts.no_new_keyring, "do not create a new session keyring");
  flags.Int("preserve-fds", &opts.preserve_fds,
            "pass N additional file descriptors to the container");
}

int Create(Context& ctx, const Args& args) {
  oci::CreateOptions opts;
  FlagSet flags("create");
  AddCreateFlags(flags, opts);
  Result<std::string> id = ParseContainerId(flags, args, "create");
  if (!id.ok()) return Fail(ctx, id.error());
  opts.id = *id;
  Result<pid_t> pid = oci::CreateContainer(ctx.rt, opts);
  if (!pid.ok()) return Fail(ctx, "berth create failed: " + pid.error().str());
  return 0;
}

}  // namespace berth::cli::runtime
