// berth-shim-runtime: creates a container, or starts a process in one, for
// berth-shim (see fork_ops.h). It is a separate static binary so that the
// OCI runtime's code is never mapped into the long-lived shim.
//
//   berth-shim-runtime create --id ID --bundle DIR <common flags>
//   berth-shim-runtime exec   --id ID --process FILE <common flags>
//   common: --root DIR --report-fd FD --log-fd FD [--cgroup-root PATH]
//           [--console-fd FD]
//
// fds 0-2 are the process's stdio. It reports `ok <pid>` or
// `err <code> <message>` on --report-fd and exits; the container's process
// is reparented to the shim, a child subreaper.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "runtime/oci/container.h"
#include "runtime/oci/spec.h"
#include "runtime/shim/fork_ops.h"

namespace {

using berth::Errc;
using berth::Error;
using berth::Result;
namespace oci = berth::runtime::oci;

struct Args {
  std::string command, id, bundle, process;
  oci::RuntimeOptions runtime;
  int report_fd = -1, log_fd = 2, console_fd = -1;
};

Result<int> ParseFd(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  long fd = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || fd < 0 || fd > 1 << 20) {
    return Error(Errc::kInvalidArgument, "flag " + flag + ": not an fd: " + value);
  }
  return static_cast<int>(fd);
}

Result<Args> Parse(int argc, char** argv) {
  Args a;
  if (argc < 2) return Error(Errc::kInvalidArgument, "usage: berth-shim-runtime create|exec ...");
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return Error(Errc::kInvalidArgument, "flag " + flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--id") {
      a.id = value;
    } else if (flag == "--bundle") {
      a.bundle = value;
    } else if (flag == "--process") {
      a.process = value;
    } else if (flag == "--root") {
      a.runtime.root = value;
    } else if (flag == "--cgroup-root") {
      a.runtime.cgroup_root = value;
    } else if (flag == "--report-fd") {
      a.report_fd = BERTH_TRY(ParseFd(flag, value));
    } else if (flag == "--log-fd") {
      a.log_fd = BERTH_TRY(ParseFd(flag, value));
    } else if (flag == "--console-fd") {
      a.console_fd = BERTH_TRY(ParseFd(flag, value));
    } else {
      return Error(Errc::kInvalidArgument, "unknown flag " + flag);
    }
  }
  if (a.id.empty()) return Error(Errc::kInvalidArgument, "missing --id");
  if (a.command == "create" && a.bundle.empty()) {
    return Error(Errc::kInvalidArgument, "create: missing --bundle");
  }
  if (a.command == "exec" && a.process.empty()) {
    return Error(Errc::kInvalidArgument, "exec: missing --process");
  }
  if (a.command != "create" && a.command != "exec") {
    return Error(Errc::kInvalidArgument, "unknown command `" + a.command + "` (create, exec)");
  }
  return a;
}

Result<pid_t> Create(const Args& a) {
  oci::CreateOptions opts;
  opts.id = a.id;
  opts.bundle = a.bundle;
  opts.console_socket_fd = a.console_fd;
  return oci::CreateContainer(a.runtime, opts);
}

Result<pid_t> Exec(const Args& a) {
  std::string text = BERTH_TRY(berth::ReadFile(a.process));
  boost::json::value doc = BERTH_TRY(berth::json::Parse(text, a.process));
  oci::ExecOptions opts;
  opts.id = a.id;
  opts.process = BERTH_TRY(oci::ParseProcess(berth::json::Field(&doc, "process")));
  opts.detach = true;
  opts.console_socket_fd = a.console_fd;
  pid_t pid = -1;
  opts.started_pid = &pid;
  BERTH_TRY(oci::ExecInContainer(a.runtime, opts));
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  Result<Args> args = Parse(argc, argv);
  if (!args.ok()) {
    (void)berth::WriteAll(2, "berth-shim-runtime: " + args.error().str() + "\n", "stderr");
    return 2;
  }
  // Not for the container or hooks: the init only passes on 0-2.
  for (int fd : {args->report_fd, args->log_fd, args->console_fd}) {
    if (fd > 2) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  berth::log::Config config = berth::log::Current();
  config.fd = args->log_fd;
  berth::log::Configure(config);
  Result<pid_t> done = args->command == "create" ? Create(*args) : Exec(*args);
  if (args->report_fd >= 0) {
    (void)berth::WriteAll(args->report_fd, berth::shim::FormatForkResult(done), "--report-fd");
  } else if (!done.ok()) {
    (void)berth::WriteAll(2, "berth-shim-runtime: " + done.error().str() + "\n", "stderr");
  }
  return done.ok() ? 0 : 1;
}
