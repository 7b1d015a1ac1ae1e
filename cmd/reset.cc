// `berth reset`: undoes `berth up` (and `berth agent` on berth's runtime)
// on this host: every pod sandbox and container through the runtime (which
// also releases their network namespaces, CNI attachments and cgroups),
// the proxy's pinned dataplane (which detaches its programs), berth's
// kubepods and berth-host cgroups, then every mount left under berth's
// directories, the directories, the pods' log directories and the default
// bridge.

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "cgroups/cgroups.h"
#include "cmd/flags.h"
#include "cmd/proxy_flags.h"
#include "cmd/self_path.h"
#include "common/file.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/unix_socket.h"
#include "proxy-ebpf/loader/dataplane.h"
#include "runtime/cri/embedded/embedded_runtime.h"
#include "volumes/mounts.h"
#include "volumes/remove_tree.h"

namespace berth::cli {

namespace {

namespace v1 = ::runtime::v1;

// Stops and removes every sandbox (and so every container) the runtime
// has; returns the pods' log directory names.
Result<std::set<std::string>> RemovePods(agent::CriClient& cri) {
  std::set<std::string> log_dirs;
  v1::ListPodSandboxRequest list;
  v1::ListPodSandboxResponse sandboxes;
  BERTH_TRY(
      cri.Call(&v1::RuntimeService::Stub::ListPodSandbox, list, &sandboxes, "ListPodSandbox"));
  for (const v1::PodSandbox& s : sandboxes.items()) {
    const v1::PodSandboxMetadata& m = s.metadata();
    log_dirs.insert(m.namespace_() + "_" + m.name() + "_" + m.uid());
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(s.id());
    v1::StopPodSandboxResponse stopped;
    BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::StopPodSandbox, stop, &stopped,
                       "StopPodSandbox " + s.id()));
    v1::RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(s.id());
    v1::RemovePodSandboxResponse removed;
    BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::RemovePodSandbox, remove, &removed,
                       "RemovePodSandbox " + s.id()));
    std::printf("removed pod %s/%s (sandbox %s)\n", m.namespace_().c_str(), m.name().c_str(),
                s.id().substr(0, 12).c_str());
  }
  // Containers without a sandbox (none should be left).
  v1::ListContainersRequest list_containers;
  v1::ListContainersResponse containers;
  BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::ListContainers, list_containers, &containers,
                     "ListContainers"));
  for (const v1::Container& c : containers.containers()) {
    v1::RemoveContainerRequest remove;
    remove.set_container_id(c.id());
    v1::RemoveContainerResponse removed;
    BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::RemoveContainer, remove, &removed,
                       "RemoveContainer " + c.id()));
  }
  return log_dirs;
}

// An empty cgroup directory of berth's; missing is fine, one with
// processes left is reported and kept.
void RemoveEmptyCgroup(const std::string& dir) {
  if (::rmdir(dir.c_str()) == 0) {
    std::printf("removed cgroup %s\n", dir.c_str());
  } else if (errno != ENOENT) {
    std::fprintf(stderr, "berth reset: %s\n", Error::Sys("rmdir", dir).str().c_str());
  }
}

// The pods' cgroup tree below berth's cgroup root (kubepods/...): the
// runtime removes each container's cgroup, the levels above are left
// empty. Then the proxy's berth-host next to it and, with `remove_root`,
// the root itself in every hierarchy. rmdir only ever removes empty
// cgroups.
void RemoveCgroups(const std::string& cgroup_root, bool remove_root) {
  Result<cgroups::Layout> layout = cgroups::Detect();
  if (!layout.ok()) return;
  cgroups::ResolveOptions options;
  options.berth_root = cgroup_root;
  options.cgroups_path = "/kubepods";
  Result<cgroups::Placement> placement = cgroups::Resolve(*layout, options);
  if (!placement.ok()) return;
  for (const auto& [key, dir] : placement->paths) {
    if (!PathExists(dir)) continue;
    Command find;
    find.argv = {"find", dir, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"};
    (void)RunCommand(find);
  }
  auto unified = placement->paths.find(cgroups::kUnified);
  if (unified != placement->paths.end())
    RemoveEmptyCgroup(Dirname(unified->second) + "/" + kHostCgroupName);
  // The own cgroup ("" root) is never berth's to remove.
  if (!remove_root || cgroup_root.empty()) return;
  std::set<std::string> roots;
  for (const auto& [key, dir] : placement->roots)
    roots.insert(dir);  // comounted controllers share one
  for (const std::string& dir : roots)
    if (PathExists(dir)) RemoveEmptyCgroup(dir);
}

Status UnmountAndRemove(const std::string& dir) {
  if (!PathExists(dir)) return Ok();
  char real[PATH_MAX];
  if (::realpath(dir.c_str(), real) == nullptr) return Error::Sys("realpath", dir);
  for (const std::string& m : BERTH_TRY(volumes::MountPointsUnder(real))) {
    BERTH_TRY(volumes::Unmount(m));
  }
  std::string path(real);
  return volumes::RemoveTreeOnOneFilesystem(Dirname(path), Basename(path));
}

}  // namespace

int RunReset(const std::vector<std::string>& args) {
  cri::CriOptions o;
  std::string data_dir = "/var/lib/berth";
  std::string pod_logs_dir = "/var/log/pods";
  std::string bridge = "berth0";
  std::string pin_dir;
  std::string node_name;
  bool remove_cgroup_root = false;
  FlagSet flags("reset");
  flags.String("data-dir", &data_dir, "the --data-dir `berth up` used");
  flags.String("run-root", &o.run_root, "the --run-root `berth up` used");
  flags.String("pod-logs-dir", &pod_logs_dir, "where the pods' logs are");
  flags.String("cni-conf-dir", &o.cni_conf_dir,
               "CNI configurations (default <data-dir>/cni/net.d)");
  flags.String("cgroup-root", &o.cgroup_root, "berth's cgroup root");
  flags.String("bridge", &bridge, "the pod bridge to delete (\"\" = keep)");
  flags.String("bpf-pin-dir", &pin_dir,
               "the proxy's pin directory to remove (default /sys/fs/bpf/berth/<node>)");
  flags.String("node-name", &node_name, "the node's name (default: the host name)");
  flags.Bool("remove-cgroup-root", &remove_cgroup_root,
             "also remove the --cgroup-root directories (when empty): for a root made for berth");
  o.cni_conf_dir.clear();
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth reset: %s\n%s", rest.error().str().c_str(), flags.Usage().c_str());
    return 2;
  }
  log::Configure({log::Level::kWarn, log::Format::kText, 2, false});
  std::string socket = o.run_root + "/cri.sock";
  if (PathExists(socket) && ConnectUnix(socket, "CRI socket").ok()) {
    std::fprintf(stderr, "berth reset: %s answers: stop berth up / berth agent first\n",
                 socket.c_str());
    return 1;
  }
  o.root = data_dir;
  if (o.cni_conf_dir.empty()) o.cni_conf_dir = data_dir + "/cni/net.d";
  o.cni_bin_dirs.push_back(Dirname(NextToSelf("berth-cni-bridge")));
  o.shim_binary = NextToSelf("berth-shim");
  o.pause_binary = NextToSelf("berth-pause");
  o.listen.clear();
  std::set<std::string> log_dirs;
  if (PathExists(data_dir)) {
    Result<std::unique_ptr<cri::EmbeddedRuntime>> runtime = cri::EmbeddedRuntime::Start(o);
    if (!runtime.ok()) {
      std::fprintf(stderr, "berth reset: runtime: %s\n", runtime.error().str().c_str());
      return 1;
    }
    agent::CriClient cri((*runtime)->InProcessChannel());
    Result<std::set<std::string>> removed = RemovePods(cri);
    (*runtime)->Shutdown();
    if (!removed.ok()) {
      std::fprintf(stderr, "berth reset: %s\n", removed.error().str().c_str());
      return 1;
    }
    log_dirs = std::move(*removed);
  }
  // The dataplane: unpinning the links detaches the programs.
  Result<std::string> resolved_pin_dir = PinDirOfThisNode(pin_dir, node_name);
  if (!resolved_pin_dir.ok()) {
    std::fprintf(stderr, "berth reset: %s\n", resolved_pin_dir.error().str().c_str());
    return 1;
  }
  pin_dir = *resolved_pin_dir;
  if (PathExists(pin_dir)) {
    if (Status s = proxy::Dataplane::Remove(pin_dir); !s.ok()) {
      std::fprintf(stderr, "berth reset: proxy: %s\n", s.error().str().c_str());
      return 1;
    }
    std::printf("removed %s\n", pin_dir.c_str());
  }
  RemoveCgroups(o.cgroup_root, remove_cgroup_root);
  for (const std::string& name : log_dirs) {
    Status s = volumes::RemoveTreeOnOneFilesystem(pod_logs_dir, name);
    if (!s.ok()) std::fprintf(stderr, "berth reset: %s\n", s.error().str().c_str());
  }
  for (const std::string& dir : {data_dir, o.run_root}) {
    Status s = UnmountAndRemove(dir);
    if (!s.ok()) {
      std::fprintf(stderr, "berth reset: %s\n", s.error().str().c_str());
      return 1;
    }
    std::printf("removed %s\n", dir.c_str());
  }
  if (!bridge.empty()) {
    // /sys/class/net may show another network namespace than ours.
    Command show;
    show.argv = {"ip", "link", "show", "dev", bridge};
    Result<CommandResult> exists = RunCommand(show);
    if (exists.ok() && exists->success()) {
      Command ip;
      ip.argv = {"ip", "link", "delete", bridge};
      Result<CommandResult> del = RunCommand(ip);
      if (!del.ok() || !del->success()) {
        std::fprintf(stderr, "berth reset: ip link delete %s failed\n", bridge.c_str());
        return 1;
      }
      std::printf("removed bridge %s\n", bridge.c_str());
    }
  }
  return 0;
}

}  // namespace berth::cli
