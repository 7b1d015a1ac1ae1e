// The container init and exec'd processes: the steps between clone and
// execve, in runc's order (standard_init_linux.go / setns_init_linux.go).

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "common/log.h"
#include "namespaces/syscalls.h"
#include "runtime/oci/hooks.h"
#include "runtime/oci/init/console.h"
#include "runtime/oci/init/credentials.h"
#include "runtime/oci/init/init_plan.h"
#include "runtime/oci/init/rootfs.h"
#include "runtime/oci/security/capabilities.h"
#include "runtime/oci/security/rlimits.h"
#include "runtime/oci/security/seccomp.h"

namespace berth::runtime::oci {
namespace {

[[noreturn]] void Fail(const InitPlan& plan, const Error& error) {
  plan.channel->SendError(error);
  _exit(1);
}

void Step(const InitPlan& plan, Status status, const char* step) {
  if (!status.ok()) Fail(plan, std::move(status).error().Wrap(step));
}

Status JoinNamespaces(const InitPlan& plan) {
  // The mount namespace last: joining it moves the root, and the other
  // namespace fds were opened beforehand anyway.
  for (const NamespaceJoin& j : plan.joins) {
    if (j.kind != ns::Kind::kMount) BERTH_TRY(ns::JoinFd(j.fd, j.kind, j.what));
  }
  for (const NamespaceJoin& j : plan.joins) {
    if (j.kind == ns::Kind::kMount) BERTH_TRY(ns::JoinFd(j.fd, j.kind, j.what));
  }
  // A new cgroup namespace is made here, once we are in the container's
  // cgroup, so its root is that cgroup.
  if (plan.new_cgroup_ns && ::unshare(CLONE_NEWCGROUP) != 0)
    return Error::Sys("unshare", "cgroup namespace");
  return Ok();
}

Status JoinSessionKeyring(const InitPlan& plan) {
  if (plan.no_new_keyring || plan.is_exec) return Ok();
  std::string name = "_ses." + plan.container_id;
  // KEYCTL_JOIN_SESSION_KEYRING = 1: a fresh keyring so containers do not
  // share the host's. Kernels or namespaces without keyrings are fine.
  if (::syscall(SYS_keyctl, 1, name.c_str()) < 0 && errno != ENOSYS && errno != EACCES &&
      errno != EPERM) {
    return Error::Sys("keyctl JOIN_SESSION_KEYRING", name);
  }
  return Ok();
}

Status ApplyProcessLimits(const Process& process) {
  std::vector<std::string> warnings;
  BERTH_TRY(security::ApplyRlimits(process.rlimits, 0, &warnings));
  if (process.oom_score_adj)
    BERTH_TRY(security::ApplyOomScoreAdj(*process.oom_score_adj, 0, &warnings));
  for (const std::string& w : warnings)
    BLOG(kWarn) << w;
  return Ok();
}

Status SetNames(const Spec& spec) {
  if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
    return Error::Sys("sethostname", spec.hostname);
  }
  if (!spec.domainname.empty() &&
      ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0) {
    return Error::Sys("setdomainname", spec.domainname);
  }
  return Ok();
}

Status WriteSysctls(const Spec& spec) {
  for (const auto& [key, value] : spec.linux_config.sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i) {
      if (path[i] == '.') path[i] = '/';
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return Error::Sys("open", path).Wrap("sysctl " + key);
    ssize_t n = ::write(fd, value.data(), value.size());
    int err = errno;
    ::close(fd);
    if (n < 0) return Error::Sys("write", path, err).Wrap("sysctl " + key + "=" + value);
  }
  return Ok();
}

// Everything but stdio, the preserved fds and what the steps still need is
// closed at execve.
Status PrepareFds(const InitPlan& plan) {
  unsigned int first = 3 + static_cast<unsigned int>(plan.preserve_fds);
  if (sys::CloseRange(first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) != 0) {
    return Error::Sys("close_range CLOEXEC");
  }
  for (int fd = 3; fd < static_cast<int>(first); ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
  return Ok();
}

bool SetgroupsAllowed() {
  int fd = ::open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char buf[16] = {};
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  return !(n > 0 && std::strncmp(buf, "deny", 4) == 0);
}

Status DropPrivileges(const Process& process) {
  const security::CapabilitySets& caps = process.capabilities;
  if (caps.specified) {
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Error::Sys("prctl PR_SET_KEEPCAPS");
    BERTH_TRY(security::DropBounding(caps));
  }
  BERTH_TRY(SwitchUser(process.user, SetgroupsAllowed()));
  if (caps.specified) {
    BERTH_TRY(security::ApplyCapabilities(caps));
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return Error::Sys("prctl PR_SET_KEEPCAPS");
  }
  return Ok();
}

Status LoadSeccomp(const InitPlan& plan) {
  int r = security::LoadSeccomp(*plan.seccomp);
  if (r < 0) return Error::Sys("seccomp SET_MODE_FILTER", "linux.seccomp", -r);
  if (!plan.seccomp->uses_notify) return Ok();
  // The runtime hands the notify listener to linux.seccomp.listenerPath.
  Status sent = plan.channel->SendWithFd(SyncType::kSeccompFd, r);
  ::close(r);
  return sent;
}

// Blocks until `start` opens the fifo, then writes one byte. The write end
// stays open (close-on-exec) until execve: `start` waits for its EOF before
// running poststart hooks, so they follow the startContainer hooks and the
// user process's execution, as runtime.md orders them.
Status WaitForStart(const InitPlan& plan) {
  std::string path = "/proc/self/fd/" + std::to_string(plan.fifo_fd);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::Sys("open", "exec fifo");
  ssize_t n = ::write(fd, "0", 1);
  int err = errno;
  ::close(plan.fifo_fd);
  if (n != 1) return Error::Sys("write", "exec fifo", err);
  return Ok();
}

// The state documents the parent sent with kHooksDone:
// "<creating>\0<created>".
struct HookStates {
  std::string creating, created;
};

HookStates SplitStates(const std::string& text) {
  size_t nul = text.find('\0');
  if (nul == std::string::npos) return {text, text};
  return {text.substr(0, nul), text.substr(nul + 1)};
}

[[noreturn]] void Exec(const InitPlan& plan, const std::string& path,
                       const std::vector<std::string>& env) {
  std::vector<char*> argv, envp;
  for (const std::string& a : plan.process->args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  Error e = Error::Sys("execve", path);
  if (plan.is_exec) Fail(plan, e);
  // The runtime has returned already; the container's stderr is the only
  // place left to say why.
  dprintf(2, "berth init: %s\n", e.str().c_str());
  _exit(127);
}

}  // namespace

void RunChild(const InitPlan& plan) {
  // Until the runtime has confirmed the container, its death kills us; and
  // nothing in the container may ptrace or open the runtime's memory.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const Process& process = *plan.process;
  Result<SyncMessage> go = plan.channel->Expect(SyncType::kGo, "go from runtime");
  if (!go.ok()) Fail(plan, std::move(go).error());
  if (plan.cgroup_join) Step(plan, plan.cgroup_join->JoinSelf(), "join cgroup");

  Step(plan, JoinNamespaces(plan), "join namespaces");
  // In a user namespace the init still has host ids that map to nothing
  // there, and files it creates on the container's mounts (the /dev tmpfs)
  // fail with EOVERFLOW: become the namespace's root first, as runc does
  // once the id maps are written.
  if (!plan.is_exec && plan.spec->linux_config.Has(ns::Kind::kUser)) {
    Step(plan, SwitchUser(User{}, SetgroupsAllowed()), "become root in the user namespace");
  }
  if ((!plan.is_exec || process.terminal) && ::setsid() < 0) Fail(plan, Error::Sys("setsid"));
  Step(plan, JoinSessionKeyring(plan), "session keyring");
  Step(plan, ApplyProcessLimits(process), "process limits");

  HookStates states;
  if (!plan.is_exec) {
    Result<UniqueFd> root = PrepareRootfs(plan);
    if (!root.ok()) Fail(plan, std::move(root).error().Wrap("prepare rootfs"));
    Step(plan, plan.channel->Send(SyncType::kMountsReady), "sync mounts ready");
    Result<SyncMessage> done = plan.channel->Expect(SyncType::kHooksDone, "createRuntime hooks");
    if (!done.ok()) Fail(plan, std::move(done).error());
    states = SplitStates(done->text);
    Step(plan, RunHooks(plan.spec->hooks.create_container, "createContainer", states.creating),
         "createContainer hooks");
    Step(plan, EnterRootfs(plan), "pivot_root");
  }
  if (process.terminal) {
    Step(plan, SetupConsole(plan.console_socket_fd, process, !plan.is_exec), "console");
    ::close(plan.console_socket_fd);
  }
  if (!plan.is_exec) {
    Step(plan, FinalizeRootfs(plan), "finalize rootfs");
    Step(plan, SetNames(*plan.spec), "hostname");
    Step(plan, WriteSysctls(*plan.spec), "sysctl");
    Step(plan, ProtectPaths(plan), "readonly and masked paths");
  }
  if (process.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Fail(plan, Error::Sys("prctl PR_SET_NO_NEW_PRIVS"));
  }
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the
  // capability drop. Otherwise as late as possible.
  if (plan.seccomp && !process.no_new_privileges) Step(plan, LoadSeccomp(plan), "seccomp");
  Step(plan, PrepareFds(plan), "close fds");
  ::umask(process.user.umask.value_or(022));
  Step(plan, DropPrivileges(process), "set user and capabilities");
  if (::chdir(process.cwd.c_str()) != 0) {
    Fail(plan, Error::Sys("chdir", process.cwd)
                   .Wrap("chdir to cwd (\"" + process.cwd + "\") set in config.json failed"));
  }
  std::vector<std::string> env = ProcessEnv(process);
  Result<std::string> path = LookPath(process.args[0], env);
  if (!path.ok()) Fail(plan, std::move(path).error());
  if (plan.seccomp && process.no_new_privileges) Step(plan, LoadSeccomp(plan), "seccomp");

  ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (!plan.is_exec) {
    // Closing the channel tells the runtime the container is created.
    plan.channel->Close();
    Status started = WaitForStart(plan);
    if (!started.ok()) {
      dprintf(2, "berth init: %s\n", started.error().str().c_str());
      _exit(1);
    }
    Status hooks = RunHooks(plan.spec->hooks.start_container, "startContainer", states.created);
    if (!hooks.ok()) {
      dprintf(2, "berth init: %s\n", hooks.error().str().c_str());
      _exit(1);
    }
  }
  Exec(plan, *path, env);
}

}  // namespace berth::runtime::oci
