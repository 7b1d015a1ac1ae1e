// The pieces of a pod sandbox: its CNI attachment, its shim and its pause
// container.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cni/client/runtime_conf.h"
#include "common/file.h"
#include "common/json_pretty.h"
#include "common/log.h"
#include "runtime/cri/server/helpers.h"
#include "runtime/cri/server/runtime_service.h"
#include "runtime/cri/server/sandbox_files.h"
#include "runtime/cri/spec/sandbox_spec.h"
#include "runtime/shim/client.h"

namespace berth::cri {

oci::RuntimeOptions RuntimeService::OciOptions() const {
  oci::RuntimeOptions rt;
  rt.root = options_.run_root + "/runc";
  rt.cgroup_root = options_.cgroup_root;
  return rt;
}

std::string CgroupsPathFor(const std::string& parent, const std::string& id) {
  std::string p = parent.empty() ? "/berth-pods" : parent;
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  return p + "/" + id;
}

cni::RuntimeConf RuntimeConfOf(const SandboxRecord& r) {
  const v1::PodSandboxMetadata& m = r.config().metadata();
  cni::RuntimeConf rt;
  rt.container_id = r.id();
  rt.netns = r.netns_path();
  rt.args = cni::PodCniArgs(m.namespace_(), m.name(), m.uid(), r.id());
  for (const v1::PortMapping& pm : r.config().port_mappings()) {
    if (pm.host_port() <= 0) continue;
    cni::PortMapping p;
    p.host_port = pm.host_port();
    p.container_port = pm.container_port();
    p.protocol = pm.protocol() == v1::UDP ? "udp" : pm.protocol() == v1::SCTP ? "sctp" : "tcp";
    p.host_ip = pm.host_ip();
    rt.capabilities.port_mappings.push_back(std::move(p));
  }
  const v1::DNSConfig& dns = r.config().dns_config();
  if (dns.servers_size() + dns.searches_size() + dns.options_size() > 0) {
    cni::DnsConfig d;
    d.servers.assign(dns.servers().begin(), dns.servers().end());
    d.searches.assign(dns.searches().begin(), dns.searches().end());
    d.options.assign(dns.options().begin(), dns.options().end());
    rt.capabilities.dns = std::move(d);
  }
  return rt;
}

Status RuntimeService::SetUpNetwork(SandboxRecord& r) {
  r.set_network_attached(true);  // from here on DEL is owed, even if ADD fails half way
  Result<cni::NetworkResult> added = cni_->Add(RuntimeConfOf(r));
  if (!added.ok()) {
    berth::Status del = cni_->Del(RuntimeConfOf(r));
    if (del.ok()) r.set_network_attached(false);
    return std::move(added).error().Wrap("set up pod network (CNI ADD)");
  }
  r.clear_pod_ips();
  for (const std::string& ip : added->PodIps("eth0"))
    r.add_pod_ips(ip);
  return Ok();
}

Status RuntimeService::TearDownNetwork(SandboxRecord& r) {
  BERTH_TRY_CTX(cni_->Del(RuntimeConfOf(r)), "tear down pod network (CNI DEL)");
  r.set_network_attached(false);
  return Ok();
}

Result<std::string> RuntimeService::StartShim(const SandboxRecord& r) {
  shim::LaunchOptions launch;
  launch.binary = options_.shim_binary;
  launch.id = r.id();
  // Short: the socket path must fit sun_path (108 bytes).
  launch.dir = options_.run_root + "/s/" + r.id().substr(0, 16);
  launch.runtime_root = OciOptions().root;
  launch.cgroup_root = options_.cgroup_root;
  BERTH_TRY(MkdirAll(options_.run_root + "/s", 0700));
  BERTH_TRY(shim::LaunchShim(launch));
  WatchShim(r.id(), launch.dir);
  return launch.dir;
}

Status RuntimeService::StartPause(SandboxRecord& r, const SandboxFiles& files) {
  SandboxSpecInput in;
  in.config = &r.config();
  in.sandbox_id = r.id();
  in.rootfs = PauseRootfs();
  in.netns_path = r.netns_path();
  in.cgroups_path = CgroupsPathFor(r.config().linux().cgroup_parent(), r.id());
  in.hostname = files.hostname;
  in.shm_path = files.shm;
  in.resolv_conf = files.resolv_conf;
  in.oom_score_adj = options_.oom_score_adj;
  boost::json::object spec = BERTH_TRY(BuildSandboxSpec(in));
  std::string bundle = SandboxStateDir(r.id()) + "/bundle";
  BERTH_TRY(MkdirAll(bundle, 0700));
  BERTH_TRY(WriteFileAtomic(bundle + "/config.json", boost::json::serialize(spec), 0600,
                            Durability::kProcessCrash));  // as a container's bundle
  shim::CreateRequest create;
  create.id = r.id();
  create.bundle = bundle;
  pid_t pid = BERTH_TRY_CTX(shim::Create(r.shim_dir(), create), "create the pause container");
  BERTH_TRY_CTX(oci::StartContainer(OciOptions(), r.id()), "start the pause container");
  r.set_pause_pid(pid);
  return Ok();
}

Status RuntimeService::StopPause(const SandboxRecord& r) {
  if (r.shim_dir().empty()) return Ok();
  Result<std::optional<shim::ExitRecord>> exited = shim::ReadExitRecord(r.shim_dir(), r.id());
  if (exited.ok() && exited->has_value()) return Ok();
  berth::Status killed = oci::KillContainer(OciOptions(), r.id(), SIGKILL, true);
  if (!killed.ok() && killed.error().code() != Errc::kNotFound &&
      killed.error().code() != Errc::kFailedPrecondition) {
    return std::move(killed).error().Wrap("stop the pause container");
  }
  for (int i = 0; i < 1000; ++i) {
    exited = shim::ReadExitRecord(r.shim_dir(), r.id());
    if (!exited.ok() || exited->has_value()) return Ok();
    if (!oci::GetContainer(OciOptions(), r.id()).ok()) return Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Error(Errc::kDeadlineExceeded, "the pause container of " + r.id() + " did not exit");
}

Status PreparePauseRootfs(const std::string& rootfs, const std::string& pause_binary) {
  for (const char* d : {"", "/proc", "/dev", "/sys", "/etc"}) {
    BERTH_TRY(MkdirAll(rootfs + d, 0755));
  }
  std::string bytes = BERTH_TRY(ReadFile(pause_binary));
  Result<std::string> have = ReadFile(rootfs + "/pause");
  if (!have.ok() || *have != bytes) BERTH_TRY(WriteFileAtomic(rootfs + "/pause", bytes, 0755));
  return Ok();
}

}  // namespace berth::cri
