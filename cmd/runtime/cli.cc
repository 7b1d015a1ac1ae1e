#include "cmd/runtime/cli.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "cmd/flags.h"
#include "common/log.h"
#include "generated/version.h"
#include "runtime/oci/security/seccomp.h"

namespace berth::cli::runtime {
namespace {

using Verb = int (*)(Context&, const Args&);

const std::map<std::string, Verb>& Verbs() {
  static const std::map<std::string, Verb> verbs = {
      {"create", Create}, {"start", Start},       {"run", Run},       {"state", State},
      {"kill", Kill},     {"delete", Delete},     {"exec", Exec},     {"list", List},
      {"ps", Ps},         {"pause", Pause},       {"resume", Resume}, {"update", Update},
      {"events", Events}, {"features", Features}, {"spec", Spec},
  };
  return verbs;
}

void PrintVersion() {
  std::printf("berth-runc version %s\ncommit: %s\nspec: 1.1.0\n", BERTH_VERSION, BERTH_GIT_COMMIT);
}

void PrintUsage(const FlagSet& flags) {
  std::string verbs;
  for (const auto& [name, fn] : Verbs())
    verbs += "   " + name + "\n";
  std::printf(
      "usage: berth-runc [global options] command [command options] [arguments...]\n\n"
      "COMMANDS:\n%s\nGLOBAL OPTIONS:\n%s",
      verbs.c_str(), flags.Usage().c_str());
}

}  // namespace

void Print(const std::string& text) {
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(1, rest.data(), rest.size());
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

int Fail(const Context& ctx, const std::string& message, int code) {
  log::Write(log::Level::kError, message);
  if (ctx.log_to_file) std::fprintf(stderr, "%s\n", message.c_str());
  return code;
}

int Fail(const Context& ctx, const Error& error, int code) {
  return Fail(ctx, error.str(), code);
}

Status ExpectArgs(const std::string& command, const Args& positional, size_t n,
                  const std::string& usage) {
  if (positional.size() == n) return Ok();
  std::string what = positional.size() < n ? "requires exactly" : "accepts exactly";
  return Error(Errc::kInvalidArgument, "\"" + command + "\" " + what + " " + std::to_string(n) +
                                           " argument(s)\nusage: berth-runc " + command + " " +
                                           usage);
}

Result<std::string> ParseContainerId(FlagSet& flags, const Args& args, const std::string& command,
                                     const std::string& usage) {
  Args positional = BERTH_TRY(flags.Parse(args));
  BERTH_TRY(ExpectArgs(command, positional, 1, usage));
  return positional.front();
}

int RuntimeMain(const Args& args) {
  Context ctx;
  std::string log_path, log_format = "text";
  std::string rootless = "auto";
  bool debug = false, systemd_cgroup = false, version = false, help = false;
  std::string criu;
  if (const char* env_root = std::getenv("BERTH_CGROUP_ROOT")) ctx.rt.cgroup_root = env_root;
  FlagSet flags("berth-runc");
  flags.Bool("debug", &debug, "enable debug logging");
  flags.String("log", &log_path, "set the log file to write runtime logs to (default is stderr)");
  flags.String("log-format", &log_format, "set the log format ('text' (default), or 'json')");
  flags.String("root", &ctx.rt.root, "root directory for storage of container state");
  flags.String("criu", &criu,
               "accepted for runc compatibility; checkpoint/restore is not supported");
  flags.Bool("systemd-cgroup", &systemd_cgroup, "use the systemd cgroup driver (not supported)");
  flags.String("rootless", &rootless,
               "ignore cgroup permission errors ('true', 'false', or 'auto')");
  flags.String(
      "cgroup-root", &ctx.rt.cgroup_root,
      "cgroup subtree berth may use (default: the cgroup berth runs in; env BERTH_CGROUP_ROOT)");
  flags.Bool("version,v", &version, "print the version");
  flags.Bool("help,h", &help, "show help");
  Result<Args> rest = flags.Parse(args);
  if (!rest.ok()) return Fail(ctx, rest.error());

  log::Config lc;
  lc.min_level = debug ? log::Level::kDebug : log::Level::kWarn;
  if (log_format == "json") {
    lc.format = log::Format::kJson;
  } else if (log_format != "text") {
    return Fail(ctx, "invalid log-format: " + log_format);
  }
  if (!log_path.empty()) {
    int fd = ::open(log_path.c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Fail(ctx, Error::Sys("open", log_path).Wrap("log file"));
    lc.fd = fd;
    lc.owns_fd = true;
    ctx.log_to_file = true;
  }
  log::Configure(lc);

  if (version) {
    PrintVersion();
    return 0;
  }
  if (help || rest->empty()) {
    PrintUsage(flags);
    return help ? 0 : 1;
  }
  if (systemd_cgroup) {
    return Fail(
        ctx, "--systemd-cgroup: the systemd cgroup driver is not supported by berth; use cgroupfs");
  }
  if (rootless == "true")
    return Fail(ctx, "--rootless=true: rootless containers are not supported by berth");
  auto verb = Verbs().find(rest->front());
  if (verb == Verbs().end()) return Fail(ctx, "No help topic for '" + rest->front() + "'");
  return verb->second(ctx, Args(rest->begin() + 1, rest->end()));
}

}  // namespace berth::cli::runtime
