// `exec`: a process from --process (a process JSON) or from the arguments,
// starting from the container's own process settings as runc does.

#include "cmd/flags.h"
#include "cmd/runtime/cli.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "runtime/oci/security/capabilities.h"

namespace berth::cli::runtime {
namespace {

struct ExecFlags {
  std::string process_file, cwd, user, apparmor, process_label, cgroup;
  std::vector<std::string> env, caps, additional_gids;
  bool tty = false, no_new_privs = false;
};

Status ApplyUser(const std::string& spec, oci::User& user) {
  std::vector<std::string> parts = Split(spec, ':');
  if (parts.size() > 2)
    return Error(Errc::kInvalidArgument, "--user: want <uid>[:<gid>], got \"" + spec + "\"");
  user.uid = BERTH_TRY(ParseInt<uint32_t>(parts[0], "--user uid"));
  if (parts.size() == 2) user.gid = BERTH_TRY(ParseInt<uint32_t>(parts[1], "--user gid"));
  return Ok();
}

Status AddCapabilities(const std::vector<std::string>& names, security::CapabilitySets& caps) {
  for (const std::string& name : names) {
    int cap = security::CapabilityFromName(name);
    if (cap < 0) return Error(Errc::kInvalidArgument, "--cap: unknown capability \"" + name + "\"");
    uint64_t bit = uint64_t{1} << cap;
    // As runc: bounding, effective and permitted; not inheritable/ambient.
    caps.bounding |= bit;
    caps.effective |= bit;
    caps.permitted |= bit;
    caps.specified = true;
  }
  return Ok();
}

Result<oci::Process> ProcessFromFile(const std::string& path) {
  std::string text = BERTH_TRY(ReadFile(path));
  json::bj::value doc = BERTH_TRY(json::Parse(text, path));
  Result<oci::Process> p = oci::ParseProcess(json::Field(&doc, "process"));
  if (!p.ok()) return std::move(p).error().Wrap(path);
  return p;
}

Result<oci::Process> ProcessFromArgs(const oci::Spec& spec, const ExecFlags& f,
                                     const Args& command) {
  if (!spec.process) return Error(Errc::kFailedPrecondition, "container config has no process");
  oci::Process p = *spec.process;
  p.args = command;
  p.terminal = f.tty;
  p.console_size.reset();
  if (!f.cwd.empty()) p.cwd = f.cwd;
  for (const std::string& e : f.env)
    p.env.push_back(e);
  if (!f.user.empty()) BERTH_TRY(ApplyUser(f.user, p.user));
  for (const std::string& g : f.additional_gids) {
    p.user.additional_gids.push_back(BERTH_TRY(ParseInt<uint32_t>(g, "--additional-gids")));
  }
  BERTH_TRY(AddCapabilities(f.caps, p.capabilities));
  if (f.no_new_privs) p.no_new_privileges = true;
  return p;
}

Result<oci::Process> ProcessFromContainer(const Context& ctx, const std::string& id,
                                          const ExecFlags& f, const Args& positional) {
  oci::StateDir dir = BERTH_TRY(oci::StateDir::Open(ctx.rt.root, id));
  oci::Spec spec = BERTH_TRY(dir.LoadSpec());
  if (positional.size() < 2) return Error(Errc::kInvalidArgument, "exec: no command given");
  return ProcessFromArgs(spec, f, Args(positional.begin() + 1, positional.end()));
}

}  // namespace

int Exec(Context& ctx, const Args& args) {
  ExecFlags f;
  oci::ExecOptions opts;
  FlagSet flags("exec");
  flags.String("console-socket", &opts.console_socket,
               "path to an AF_UNIX socket which will receive the pty master");
  flags.String("cwd", &f.cwd, "current working directory in the container");
  flags.StringList("env,e", &f.env, "set environment variables");
  flags.Bool("tty,t", &f.tty, "allocate a pseudo-TTY");
  flags.String("user,u", &f.user, "UID (format: <uid>[:<gid>])");
  flags.StringList("additional-gids,g", &f.additional_gids, "additional gids");
  flags.String("process,p", &f.process_file, "path to the process.json");
  flags.Bool("detach,d", &opts.detach, "detach from the container's process");
  flags.String("pid-file", &opts.pid_file, "specify the file to write the process id to");
  flags.String("process-label", &f.process_label, "set the asm process label (not supported)");
  flags.String("apparmor", &f.apparmor, "set the apparmor profile (not supported)");
  flags.Bool("no-new-privs", &f.no_new_privs, "set the no new privileges value for the process");
  flags.StringList("cap,c", &f.caps, "add a capability to the bounding set for the process");
  flags.Int("preserve-fds", &opts.preserve_fds,
            "pass N additional file descriptors to the process");
  flags.Bool("ignore-paused", &opts.ignore_paused, "allow exec in a paused container");
  flags.String("cgroup", &f.cgroup, "run the process in a sub-cgroup (not supported)");
  Result<Args> pos = flags.Parse(args);
  if (!pos.ok()) return Fail(ctx, pos.error(), 255);
  if (pos->empty())
    return Fail(ctx,
                "exec failed: usage: berth-runc exec [options] <container-id> <command> [args...]",
                255);
  if (!f.apparmor.empty())
    return Fail(ctx, "exec failed: --apparmor: AppArmor is not supported by berth", 255);
  if (!f.process_label.empty())
    return Fail(ctx, "exec failed: --process-label: SELinux is not supported by berth", 255);
  if (!f.cgroup.empty())
    return Fail(ctx, "exec failed: --cgroup: sub-cgroups are not supported by berth", 255);
  opts.id = pos->front();
  Result<oci::Process> process = f.process_file.empty()
                                     ? ProcessFromContainer(ctx, opts.id, f, *pos)
                                     : ProcessFromFile(f.process_file);
  if (!process.ok()) return Fail(ctx, "exec failed: " + process.error().str(), 255);
  opts.process = std::move(process).value();
  Result<int> code = oci::ExecInContainer(ctx.rt, opts);
  if (!code.ok()) return Fail(ctx, "exec failed: " + code.error().str(), 255);
  return *code;
}

}  // namespace berth::cli::runtime
