#include "integration/e2e/berth_up.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <thread>

#include "agent/config/kubeconfig.h"
#include "common/file.h"
#include "common/strings.h"
#include "integration/e2e/json_fields.h"
#include "volumes/mounts.h"

namespace berth::e2e {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

// `roots` and every process below them, parents before children.
std::vector<pid_t> DescendantsOf(const std::vector<pid_t>& roots) {
  std::vector<std::pair<pid_t, pid_t>> parent_of;  // (pid, ppid)
  for (const std::string& entry : ListDir("/proc").value_or(std::vector<std::string>{})) {
    if (entry.empty() || entry.find_first_not_of("0123456789") != std::string::npos) continue;
    // "pid (comm) state ppid ...": comm may hold spaces; ppid follows the last ')'.
    std::string stat = ReadFile("/proc/" + entry + "/stat").value_or("");
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 4 > stat.size()) continue;
    pid_t ppid = static_cast<pid_t>(std::strtol(stat.c_str() + close + 4, nullptr, 10));
    parent_of.emplace_back(static_cast<pid_t>(std::stol(entry)), ppid);
  }
  std::vector<pid_t> out;
  std::vector<pid_t> level = roots;
  while (!level.empty()) {
    out.insert(out.end(), level.begin(), level.end());
    std::vector<pid_t> below;
    for (const auto& [pid, ppid] : parent_of) {
      if (std::find(level.begin(), level.end(), ppid) != level.end()) below.push_back(pid);
    }
    level = std::move(below);
  }
  return out;
}

bool ChildExited(pid_t pid) {
  int status;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

}  // namespace

std::string KubectlPath(const std::string& version) {
  const char* dir = std::getenv("BERTH_KUBECTL_DIR");
  return std::string(dir && *dir ? dir : "/usr/lib/google-cloud-sdk/bin") + "/kubectl." + version;
}

BerthUp::BerthUp() : dir_("berth-e2e") {
  // The vm guest is thrown away after the tier, and its tests read the
  // pods' cgroups at the default place (/sys/fs/cgroup/kubepods).
  if (!testing::InBerthVm()) cgroup_root_ = "berth-test-" + Basename(dir());
}

Result<std::unique_ptr<BerthUp>> BerthUp::Start() {
  std::unique_ptr<BerthUp> up(new BerthUp());
  BERTH_TRY(up->Prepare());
  up->started_at_ = steady_clock::now();
  BERTH_TRY(up->Spawn());
  BERTH_TRY(up->WaitServing(seconds(30)));
  BERTH_TRY(up->WaitNodeReady(seconds(30)));
  return up;
}

BerthUp::~BerthUp() {
  if (!shut_down_) (void)Shutdown();
}

Status BerthUp::Prepare() {
  if (dir().empty()) return Error(Errc::kInternal, "no temporary dir");
  // The run root on a tmpfs, as /run is on a host: whatever berth keeps
  // there is in memory, as it would be in production.
  BERTH_TRY(MkdirAll(run_root(), 0700));
  if (::mount("tmpfs", run_root().c_str(), "tmpfs", 0, "mode=0700") != 0) {
    return Error::Sys("mount tmpfs", run_root());
  }
  // The proxy's pins on a bpffs of this run (a new instance: nothing
  // shared with the host's /sys/fs/bpf or another run's); it goes with the
  // test's mount namespace at the latest, detaching what is pinned there.
  BERTH_TRY(MkdirAll(dir_ / "bpffs", 0700));
  if (::mount("bpf", (dir_ / "bpffs").c_str(), "bpf", 0, "mode=0700") != 0) {
    return Error::Sys("mount bpf", dir_ / "bpffs");
  }
  bpffs_mounted_ = true;
  BERTH_TRY(MkdirAll(dir_ / "certs.d", 0755));
  BERTH_TRY(MkdirAll(dir_ / "kubectl-cache", 0755));
  api_port_ = testing::UnusedPort();
  kubelet_port_ = testing::UnusedPort();
  if (api_port_ == 0 || kubelet_port_ == 0 || api_port_ == kubelet_port_) {
    return Error(Errc::kUnavailable, "no free loopback ports");
  }
  Command build;
  build.argv = {"/bin/sh", testing::SourceDir() + "/examples/build-demo-image",
                testing::BuiltBinary("cmd/berth"), data_dir()};
  build.timeout = seconds(120);
  CommandResult built = BERTH_TRY(RunCommand(build));
  if (!built.success()) {
    return Error(Errc::kInternal,
                 "examples/build-demo-image: " + built.Describe() + "\n" + built.out + built.err);
  }
  return Ok();
}

Status BerthUp::Spawn() {
  std::vector<std::string> argv = {
      testing::BuiltBinary("cmd/berth"),
      "up",
      "--data-dir=" + data_dir(),
      "--run-root=" + run_root(),
      "--pod-logs-dir=" + logs_dir(),
      "--bind-address=127.0.0.1",
      "--secure-port=" + std::to_string(api_port_),
      "--kubelet-port=" + std::to_string(kubelet_port_),
      "--node-ip=127.0.0.1",
      "--node-name=" + node_name_,
      "--registry-config-dir=" + (dir_ / "certs.d"),
      "--cluster-dns=10.96.0.10",
      "--bpf-pin-dir=" + pin_dir(),
  };
  if (!cgroup_root_.empty()) argv.push_back("--cgroup-root=" + cgroup_root_);
  child_ = BERTH_TRY(testing::SpawnLogged(argv, dir_ / "berth-up.log"));
  return Ok();
}

Status BerthUp::WaitServing(seconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  while (!PathExists(kubeconfig()) || !api_) {
    if (ChildExited(child_.get())) {
      child_.release();
      return Error(Errc::kUnavailable, "berth up exited at start:\n" + Log());
    }
    if (steady_clock::now() > deadline) {
      return Error(Errc::kDeadlineExceeded, "no admin kubeconfig from berth up:\n" + Log());
    }
    if (PathExists(kubeconfig())) {
      Result<controlplane::client::ClientConfig> config = agent::LoadKubeconfig(kubeconfig());
      if (config.ok()) api_ = std::make_unique<controlplane::client::ApiClient>(*config);
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  // The apiserver answers, and the kubelet API accepts connections.
  while (true) {
    Result<controlplane::client::ApiResponse> r = api_->Do("GET", "/readyz");
    bool kubelet = testing::ConnectLoopback(kubelet_port_).ok();
    if (r.ok() && r->status == 200 && kubelet) return Ok();
    if (ChildExited(child_.get())) {
      child_.release();
      return Error(Errc::kUnavailable, "berth up exited at start:\n" + Log());
    }
    if (steady_clock::now() > deadline) {
      return Error(Errc::kDeadlineExceeded,
                   "berth up: apiserver or kubelet API not serving:\n" + Log());
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Status BerthUp::WaitNodeReady(seconds timeout) {
  auto deadline = steady_clock::now() + timeout;
  while (steady_clock::now() < deadline) {
    Result<controlplane::client::ApiResponse> r = api_->Do("GET", "/api/v1/nodes/" + node_name_);
    if (r.ok() && r->status == 200 && Condition(r->Json(), "Ready") == "True") return Ok();
    std::this_thread::sleep_for(milliseconds(100));
  }
  return Error(Errc::kDeadlineExceeded, "node " + node_name_ + " not Ready:\n" + Log());
}

void BerthUp::Kill9() {
  child_.KillAndReap();
}

Status BerthUp::Restart() {
  BERTH_TRY(Spawn());
  return WaitServing(seconds(30));
}

Status BerthUp::StopChild() {
  pid_t pid = child_.release();
  if (pid <= 0) return Ok();
  ::kill(pid, SIGTERM);
  // The agent stops its pod workers and the control plane its
  // controllers; pods keep running.
  auto deadline = steady_clock::now() + seconds(30);
  while (steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
      return Error(Errc::kInternal, "berth up ended with wait status " + std::to_string(status) +
                                        " after SIGTERM:\n" + Log());
    }
    std::this_thread::sleep_for(milliseconds(25));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return Error(Errc::kDeadlineExceeded, "berth up did not stop within 30 s of SIGTERM");
}

Status BerthUp::Shutdown() {
  shut_down_ = true;
  std::vector<std::string> problems;
  if (Status s = StopChild(); !s.ok()) problems.push_back(s.error().str());
  Command reset;
  reset.argv = {testing::BuiltBinary("cmd/berth"), "reset",
                "--data-dir=" + data_dir(),        "--run-root=" + run_root(),
                "--pod-logs-dir=" + logs_dir(),    "--node-name=" + node_name_,
                "--bpf-pin-dir=" + pin_dir()};
  if (!cgroup_root_.empty()) {
    reset.argv.push_back("--cgroup-root=" + cgroup_root_);
    reset.argv.push_back("--remove-cgroup-root");
  }
  reset.timeout = seconds(120);
  Result<CommandResult> r = RunCommand(reset);
  if (!r.ok()) {
    problems.push_back("berth reset: " + r.error().str());
  } else if (!r->success()) {
    problems.push_back("berth reset: " + r->Describe() + "\n" + r->out + r->err);
  }
  // Shims go when their last container is removed; give them a moment.
  std::vector<std::string> processes = OurProcesses();
  for (int i = 0; i < 100 && !processes.empty(); ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    processes = OurProcesses();
  }
  if (!processes.empty()) {
    problems.push_back("processes left after berth reset:\n  " + Join(processes, "\n  "));
    // The shims' containers too (their command lines do not name our dir),
    // before the shims, so none is left behind reparented.
    std::vector<pid_t> ours;
    ours.reserve(processes.size());
    for (const std::string& p : processes)
      ours.push_back(static_cast<pid_t>(std::strtol(p.c_str(), nullptr, 10)));
    std::vector<pid_t> doomed = DescendantsOf(ours);
    std::reverse(doomed.begin(), doomed.end());
    for (pid_t pid : doomed)
      ::kill(pid, SIGKILL);
  }
  std::vector<std::string> left = LeftCgroupsAndPins();
  if (!left.empty()) problems.push_back("left after berth reset:\n  " + Join(left, "\n  "));
  if (bpffs_mounted_) {
    // Unmounting the last mount of the instance drops whatever is left
    // pinned (and so detaches it).
    if (::umount2((dir_ / "bpffs").c_str(), MNT_DETACH) != 0) {
      problems.push_back(Error::Sys("umount", dir_ / "bpffs").str());
    }
    bpffs_mounted_ = false;
  }
  // A failed reset may leave the run's cgroups: the empty ones go here (a
  // cgroup with processes left is reported above and stays).
  if (!cgroup_root_.empty() && !left.empty()) {
    Result<cgroups::Placement> placement = KubepodsPlacement();
    if (placement.ok()) {
      for (const auto& [key, root] : placement->roots) {
        if (!PathExists(root)) continue;
        Command rm;
        rm.argv = {"find", root, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"};
        (void)RunCommand(rm);
      }
    }
  }
  std::vector<std::string> mounts = OurMounts();
  if (!mounts.empty()) {
    problems.push_back("mounts left after berth reset:\n  " + Join(mounts, "\n  "));
    // Detached, so removing the temporary dir cannot reach through them.
    for (const std::string& m : mounts)
      ::umount2(m.c_str(), MNT_DETACH);
  }
  if (problems.empty()) return Ok();
  return Error(Errc::kInternal, Join(problems, "\n"));
}

Result<CommandResult> BerthUp::Kubectl(const std::vector<std::string>& args,
                                       const KubectlCall& call) const {
  Command cmd;
  cmd.argv = KubectlArgv(call.version, args);
  cmd.stdin_data = call.stdin_data;
  cmd.timeout = call.timeout;
  return RunCommand(cmd);
}

std::vector<std::string> BerthUp::KubectlArgv(const std::string& version,
                                              const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {KubectlPath(version), "--kubeconfig=" + kubeconfig(),
                                   "--cache-dir=" + (dir_ / "kubectl-cache")};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string BerthUp::VolumeDir(const std::string& pod_uid, const std::string& plugin,
                               const std::string& name) const {
  return data_dir() + "/agent/pods/" + pod_uid + "/volumes/" + plugin + "/" + name;
}

Result<cgroups::Placement> BerthUp::KubepodsPlacement() const {
  cgroups::Layout layout = BERTH_TRY(cgroups::Detect());
  cgroups::ResolveOptions o;
  o.berth_root = cgroup_root_;
  o.cgroups_path = "/kubepods";
  return cgroups::Resolve(layout, o);
}

Result<std::string> BerthUp::PodsCgroup() const {
  cgroups::Placement placement = BERTH_TRY(KubepodsPlacement());
  auto it = placement.paths.find(cgroups::kUnified);
  if (it == placement.paths.end()) return Error(Errc::kNotFound, "no cgroup2 hierarchy mounted");
  return it->second;
}

Result<std::string> BerthUp::HostCgroup() const {
  std::string pods = BERTH_TRY(PodsCgroup());
  return Dirname(pods) + "/berth-host";
}

std::vector<std::string> BerthUp::LeftCgroupsAndPins() const {
  std::vector<std::string> out;
  if (PathExists(pin_dir())) out.push_back("pin directory " + pin_dir());
  for (const Result<std::string>& dir : {PodsCgroup(), HostCgroup()}) {
    if (dir.ok() && PathExists(*dir)) out.push_back("cgroup " + *dir);
  }
  Result<cgroups::Placement> placement = KubepodsPlacement();
  if (!cgroup_root_.empty() && placement.ok()) {
    std::set<std::string> roots;  // comounted controllers share one
    for (const auto& [key, root] : placement->roots)
      roots.insert(root);
    for (const std::string& root : roots)
      if (PathExists(root)) out.push_back("cgroup root " + root);
  }
  return out;
}

std::string BerthUp::Log() const {
  std::string log = ReadFile(dir_ / "berth-up.log").value_or("");
  constexpr size_t kTail = 8000;
  return log.size() > kTail ? "...\n" + log.substr(log.size() - kTail) : log;
}

std::vector<std::string> BerthUp::OurProcesses() const {
  std::vector<std::string> out;
  for (const std::string& entry : ListDir("/proc").value_or(std::vector<std::string>{})) {
    if (entry.empty() || entry.find_first_not_of("0123456789") != std::string::npos) continue;
    Result<std::string> cmdline = ReadFile("/proc/" + entry + "/cmdline");
    if (!cmdline.ok() || cmdline->find(dir() + "/") == std::string::npos) continue;
    std::string printable = *cmdline;
    for (char& c : printable)
      if (c == '\0') c = ' ';
    out.push_back(entry + " " + printable);
  }
  return out;
}

std::vector<std::string> BerthUp::OurMounts() const {
  std::vector<std::string> out =
      volumes::MountPointsUnder(dir()).value_or(std::vector<std::string>{});
  return out;
}

}  // namespace berth::e2e
