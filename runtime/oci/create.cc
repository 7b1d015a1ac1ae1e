// `create`: everything up to the init blocked on exec.fifo. On any failure
// the rollback kills the init and removes its cgroup and state directory, so
// a failed create leaves nothing behind.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "common/process.h"
#include "common/time.h"
#include "common/unix_socket.h"
#include "namespaces/idmap.h"
#include "runtime/oci/container.h"
#include "runtime/oci/device_rules.h"
#include "runtime/oci/hooks.h"
#include "runtime/oci/init/console.h"
#include "runtime/oci/init/init_plan.h"
#include "runtime/oci/launcher.h"

namespace berth::runtime::oci {
namespace {

// Undoes a partial create unless dismissed.
class CreateRollback {
 public:
  explicit CreateRollback(const StateDir& dir) : dir_(dir) {}
  CreateRollback(const CreateRollback&) = delete;
  CreateRollback& operator=(const CreateRollback&) = delete;
  ~CreateRollback() {
    if (dismissed_) return;
    if (driver_) {
      (void)driver_->Kill(SIGKILL);
      (void)driver_->Destroy();
    }
    (void)dir_.Remove();
  }
  // The rollback owns the driver so it outlives every other local of
  // CreateContainer.
  cgroups::Driver* set_driver(cgroups::DriverPtr driver) {
    driver_ = std::move(driver);
    return driver_.get();
  }
  void Dismiss() { dismissed_ = true; }

 private:
  const StateDir& dir_;
  cgroups::DriverPtr driver_;
  bool dismissed_ = false;
};

Result<std::string> AbsoluteBundle(const std::string& bundle) {
  std::string path = bundle.empty() ? "." : bundle;
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return Error::Sys("realpath", path).Wrap("bundle");
  std::string out = real;
  free(real);
  return out;
}

Status CheckConsoleOptions(const Process& process, const std::string& console_socket) {
  if (process.terminal && console_socket.empty()) {
    return Error(Errc::kInvalidArgument,
                 "cannot allocate tty if berth will detach without setting console socket");
  }
  if (!process.terminal && !console_socket.empty()) {
    return Error(Errc::kInvalidArgument,
                 "cannot use console socket if berth will not detach or allocate tty");
  }
  return Ok();
}

uint64_t NewNamespaceFlags(const LinuxConfig& l) {
  uint64_t flags = 0;
  for (const Namespace& n : l.namespaces) {
    if (n.path.empty() && n.kind != ns::Kind::kCgroup) flags |= ns::CloneFlag(n.kind);
  }
  return flags;
}

std::vector<std::string> OwnNamespaces(const LinuxConfig& l) {
  std::vector<std::string> out;
  for (const Namespace& n : l.namespaces) {
    if (n.path.empty()) out.emplace_back(ns::OciName(n.kind));
  }
  return out;
}

// The exec fifo: the init blocks opening it for writing until `start` opens
// it for reading. Mode 0622 so a non-root container user can open it.
Result<UniqueFd> MakeExecFifo(const StateDir& dir, const Spec& spec) {
  std::string path = dir.FifoPath();
  if (::mkfifo(path.c_str(), 0622) != 0) return Error::Sys("mkfifo", path);
  if (::chmod(path.c_str(), 0622) != 0) return Error::Sys("chmod", path);
  const LinuxConfig& l = spec.linux_config;
  uid_t uid = ns::ToHost(l.uid_mappings, 0).value_or(0);
  gid_t gid = ns::ToHost(l.gid_mappings, 0).value_or(0);
  if (::chown(path.c_str(), uid, gid) != 0) return Error::Sys("chown", path);
  return Open(path, O_PATH);
}

Status WritePidFile(const std::string& path, pid_t pid) {
  if (path.empty()) return Ok();
  return WriteFileAtomic(path, std::to_string(pid), 0644, Durability::kProcessCrash);
}

// Serves the init until it is ready (its end of the channel closes), then
// checks it did not die instead.
Status WaitInitReady(const SyncChannel& channel, const Spec& spec, pid_t pid,
                     const std::string& state) {
  BERTH_TRY(ServeUntilClosed(channel, spec, pid, state));
  int status = BERTH_TRY(WaitPid(pid, WNOHANG));
  if (status != -1) {
    return Error(Errc::kInternal, "container init exited before it was ready (status " +
                                      std::to_string(ExitCodeFromWaitStatus(status)) + ")");
  }
  return Ok();
}

struct Prepared {
  std::string bundle;
  Spec spec;
  std::string config_text;
  std::optional<security::CompiledSeccomp> seccomp;
};

Result<Prepared> LoadBundle(const RuntimeOptions& rt, const CreateOptions& opts) {
  Prepared p;
  p.bundle = BERTH_TRY(AbsoluteBundle(opts.bundle));
  std::string config = PathJoin(p.bundle, "config.json");
  p.config_text = BERTH_TRY(ReadFile(config));
  p.spec = BERTH_TRY(ParseSpec(p.config_text, config));
  BERTH_TRY_CTX(Validate(p.spec, p.bundle), config);
  BERTH_TRY(CheckConsoleOptions(*p.spec.process,
                                opts.console_socket_fd >= 0 ? "fd" : opts.console_socket));
  if (p.spec.linux_config.seccomp) {
    p.seccomp = BERTH_TRY(
        security::CompileSeccompCached(*p.spec.linux_config.seccomp, rt.SeccompCacheDir()));
  }
  return p;
}

}  // namespace

Result<pid_t> CreateContainer(const RuntimeOptions& rt, const CreateOptions& opts) {
  Prepared p = BERTH_TRY(LoadBundle(rt, opts));
  const Spec& spec = p.spec;
  const LinuxConfig& l = spec.linux_config;

  StateDir dir = BERTH_TRY(StateDir::Create(rt.root, opts.id));
  CreateRollback rollback(dir);
  BERTH_TRY(WriteFileAtomic(dir.ConfigPath(), p.config_text, 0600, Durability::kProcessCrash));

  ContainerState state;
  state.id = opts.id;
  state.bundle = p.bundle;
  state.rootfs = RootfsPath(spec, p.bundle);
  state.created = FormatRfc3339Nano(WallClockNow());
  state.annotations = spec.annotations;
  state.own_namespaces = OwnNamespaces(l);

  InitPlan plan;
  plan.spec = &spec;
  plan.process = &*spec.process;
  plan.bundle = p.bundle;
  plan.rootfs = state.rootfs;
  plan.container_id = opts.id;
  plan.no_pivot = opts.no_pivot;
  plan.no_new_keyring = opts.no_new_keyring;
  plan.preserve_fds = opts.preserve_fds;
  plan.seccomp = p.seccomp;
  plan.new_cgroup_ns = l.CreatesNew(ns::Kind::kCgroup);
  plan.new_mount_ns = l.CreatesNew(ns::Kind::kMount);
  plan.new_user_ns = l.CreatesNew(ns::Kind::kUser);
  plan.new_net_ns = l.CreatesNew(ns::Kind::kNetwork);
  plan.new_ipc_ns = l.CreatesNew(ns::Kind::kIpc);

  plan.cgroup_layout = BERTH_TRY(cgroups::Detect());
  cgroups::ResolveOptions where{rt.cgroup_root, l.cgroups_path, opts.id};
  plan.cgroup_placement = BERTH_TRY(cgroups::Resolve(plan.cgroup_layout, where));
  cgroups::Driver* driver = rollback.set_driver(BERTH_TRY(cgroups::Open(plan.cgroup_placement)));
  BERTH_TRY_CTX(driver->Create(), "create cgroup");
  if (l.has_resources) BERTH_TRY_CTX(driver->Apply(EffectiveResources(spec)), "linux.resources");
  plan.has_cgroup = true;
  state.has_cgroup = true;
  state.cgroup = plan.cgroup_placement;

  UniqueFd fifo = BERTH_TRY(MakeExecFifo(dir, spec));
  plan.fifo_fd = fifo.get();
  UniqueFd console;
  if (spec.process->terminal) {
    if (opts.console_socket_fd >= 0) {
      plan.console_socket_fd = opts.console_socket_fd;
    } else {
      console = BERTH_TRY(ConnectUnix(opts.console_socket, "console socket"));
      plan.console_socket_fd = console.get();
    }
  }

  cgroups::SpawnJoin cgroup_join = BERTH_TRY_CTX(driver->OpenSpawnJoin(), "join cgroup");
  plan.cgroup_join = &cgroup_join;

  Launcher launcher;
  for (const Namespace& n : l.namespaces) {
    if (!n.path.empty()) BERTH_TRY(launcher.Join(n.kind, n.path, plan));
  }
  auto [child, channel] = BERTH_TRY(launcher.Launch(plan, NewNamespaceFlags(l)));
  ChildGuard guard(child.pid);
  state.pid = child.pid;
  state.pid_start_time = BERTH_TRY(ProcessStartTime(child.pid));

  if (plan.new_user_ns)
    BERTH_TRY_CTX(ns::WriteIdMaps(child.pid, l.uid_mappings, l.gid_mappings), "id maps");
  if (!child.in_cgroup) BERTH_TRY_CTX(cgroup_join.AddWithoutCloneInto(child.pid), "join cgroup");
  BERTH_TRY(channel.Send(SyncType::kGo));

  BERTH_TRY(channel.Expect(SyncType::kMountsReady, "container mounts"));
  std::string creating = OciStateJson(state, ContainerStatus::kCreating);
  BERTH_TRY(RunHooks(spec.hooks.prestart, "prestart", creating));
  BERTH_TRY(RunHooks(spec.hooks.create_runtime, "createRuntime", creating));
  std::string states = creating + '\0' + OciStateJson(state, ContainerStatus::kCreated);
  BERTH_TRY(channel.Send(SyncType::kHooksDone, 0, states));
  BERTH_TRY(WaitInitReady(channel, spec, child.pid, creating));

  BERTH_TRY(dir.Save(state));
  BERTH_TRY_CTX(WritePidFile(opts.pid_file, child.pid), "pid file");
  guard.release();
  rollback.Dismiss();
  BLOG(kDebug) << "created container " << opts.id << " with init pid " << child.pid;
  return child.pid;
}

}  // namespace berth::runtime::oci
