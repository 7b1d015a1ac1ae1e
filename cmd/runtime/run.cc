// `run`: create + start; in the foreground it then supervises the container
// and deletes it when it exits (unless --keep), returning its exit code.

#include <sys/prctl.h>
#include <sys/socket.h>

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"
#include "common/file.h"
#include "runtime/oci/foreground.h"
#include "runtime/oci/init/console.h"

namespace berth::cli::runtime {

void AddCreateFlags(FlagSet& flags, oci::CreateOptions& opts);

namespace {

// Whether config.json asks for a terminal, so a foreground run can hand the
// container one end of a local console socket. Errors are left for create
// to report with full context.
bool WantsTerminal(const std::string& bundle) {
  Result<std::string> text = ReadFile(PathJoin(bundle.empty() ? "." : bundle, "config.json"));
  if (!text.ok()) return false;
  Result<oci::Spec> spec = oci::ParseSpec(*text);
  return spec.ok() && spec->process && spec->process->terminal;
}

}  // namespace

int Run(Context& ctx, const Args& args) {
  oci::CreateOptions opts;
  bool detach = false, keep = false, no_subreaper = false;
  FlagSet flags("run");
  AddCreateFlags(flags, opts);
  flags.Bool("detach,d", &detach, "detach from the container's process");
  flags.Bool("keep", &keep, "do not delete the container after it exits");
  flags.Bool("no-subreaper", &no_subreaper,
             "disable the use of the subreaper used to reap reparented processes");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error());
  if (Status s = ExpectArgs("run", *pos, 1, "<container-id>"); !s.ok()) return Fail(ctx, s.error());
  opts.id = pos->front();

  UniqueFd console_local, console_remote;
  if (!detach && opts.console_socket.empty() && WantsTerminal(opts.bundle)) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return Fail(ctx, Error::Sys("socketpair", "console"));
    }
    console_local = UniqueFd(fds[0]);
    console_remote = UniqueFd(fds[1]);
    opts.console_socket_fd = console_remote.get();
  }
  if (!detach && !no_subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  Result<pid_t> pid = oci::CreateContainer(ctx.rt, opts);
  if (!pid.ok()) return Fail(ctx, "berth run failed: " + pid.error().str());
  console_remote.reset();
  UniqueFd master;
  if (console_local) {
    Result<UniqueFd> got = oci::ReceiveFd(console_local.get());
    if (!got.ok()) {
      (void)oci::DeleteContainer(ctx.rt, opts.id, true);
      return Fail(ctx, got.error());
    }
    master = std::move(got).value();
  }
  if (Status s = oci::StartContainer(ctx.rt, opts.id); !s.ok()) {
    if (!detach) (void)oci::DeleteContainer(ctx.rt, opts.id, true);
    return Fail(ctx, "berth run failed: " + s.error().str());
  }
  if (detach) return 0;
  Result<int> code = oci::SuperviseForeground(*pid, master.get());
  if (!keep) {
    if (Status s = oci::DeleteContainer(ctx.rt, opts.id, true); !s.ok()) Fail(ctx, s.error());
  }
  if (!code.ok()) return Fail(ctx, code.error());
  return *code;
}

}  // namespace berth::cli::runtime
