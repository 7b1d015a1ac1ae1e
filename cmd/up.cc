// `berth up`: the control plane, the agent and the service proxy in one
// process (k3s style), with the embedded SQLite store, berth's runtime and
// berth-cni-bridge. It writes the admin kubeconfig and says how to use it.
// SIGINT/SIGTERM stop all three and leave the pods (and the pinned
// dataplane) working; `berth reset` removes them.

#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "agent/node/node_addresses.h"
#include "cmd/agent_flags.h"
#include "cmd/control_plane.h"
#include "cmd/malloc_arenas.h"
#include "cmd/proxy_flags.h"
#include "cmd/signals_wait.h"
#include "common/file.h"
#include "common/log.h"
#include "common/pki/pki.h"

namespace berth::cli {

namespace {

// A bridge network for the pods unless the directory has one already.
Status EnsureCniConfig(const std::string& conf_dir, const std::string& data_dir,
                       const std::string& subnet) {
  Result<std::vector<std::string>> names = ListDir(conf_dir);
  if (names.ok()) {
    for (const std::string& n : *names) {
      if (n.ends_with(".conf") || n.ends_with(".conflist") || n.ends_with(".json")) return Ok();
    }
  }
  BERTH_TRY(MkdirAll(conf_dir, 0755));
  boost::json::object plugin{
      {"type", "berth-cni-bridge"},
      {"bridge", "berth0"},
      {"isGateway", true},
      {"isDefaultGateway", true},
      {"ipMasq", true},
      {"hairpinMode", true},
      {"ipam", boost::json::object{{"subnet", subnet}, {"dataDir", data_dir + "/cni/ipam"}}},
      {"capabilities", boost::json::object{{"portMappings", true}}}};
  boost::json::object conflist{
      {"cniVersion", "1.0.0"}, {"name", "berth"}, {"plugins", boost::json::array{plugin}}};
  return WriteFileAtomic(conf_dir + "/10-berth.conflist", boost::json::serialize(conflist), 0644);
}

}  // namespace

int RunUp(const std::vector<std::string>& args) {
  ControlPlaneOptions cp_options;
  agent::AgentOptions o;
  AgentFlags values;
  cp_options.server.data_dir = "/var/lib/berth";  // --data-dir: everything below it
  std::string node_name;
  std::string pod_subnet = "10.88.0.0/16";
  ProxyOptions proxy_options;
  bool disable_proxy = false;
  FlagSet flags("up");
  AddControlPlaneFlags(flags, cp_options);
  AddAgentFlags(flags, o, values, true);
  flags.String("run-root", &o.runtime.run_root, "run state (shims, netns, the CRI socket)");
  flags.String("node-name", &node_name, "this node's name (default: the host name)");
  flags.String("registry-config-dir", &o.runtime.registry_config_dir,
               "registry hosts.toml directory");
  flags.String("cni-conf-dir", &o.runtime.cni_conf_dir,
               "CNI configurations (default <data-dir>/cni/net.d, with a berth0 bridge network)");
  flags.String("pod-subnet", &pod_subnet, "the pods' addresses on the default bridge network");
  flags.String("cgroup-root", &o.runtime.cgroup_root, "berth's cgroup root");
  flags.Bool("disable-proxy", &disable_proxy,
             "no service proxy (ClusterIPs then answer only through another kube-proxy)");
  AddProxyFlags(flags, proxy_options);
  o.runtime.cni_conf_dir.clear();
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth up: %s\n%s", rest.error().str().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (!rest->empty()) {
    std::fprintf(stderr, "berth up: unexpected argument \"%s\"\n", rest->front().c_str());
    return 2;
  }
  log::Configure({log::Level::kInfo, log::Format::kText, 2, false});
  const std::string data_dir = cp_options.server.data_dir;
  cp_options.server.data_dir = data_dir + "/server";
  o.root_dir = data_dir + "/agent";
  o.runtime.root = data_dir;
  o.runtime.listen = "unix://" + o.runtime.run_root + "/cri.sock";
  if (o.runtime.cni_conf_dir.empty()) o.runtime.cni_conf_dir = data_dir + "/cni/net.d";
  o.hostname_override = node_name;
  if (Status s = FinishAgentOptions(o, values); !s.ok()) {
    std::fprintf(stderr, "berth up: %s\n", s.error().str().c_str());
    return 2;
  }
  if (Status s = EnsureCniConfig(o.runtime.cni_conf_dir, data_dir, pod_subnet); !s.ok()) {
    std::fprintf(stderr, "berth up: %s\n", s.error().str().c_str());
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  LimitMallocArenas();
  StopSignals stop;
  Result<std::unique_ptr<ControlPlane>> cp = ControlPlane::Start(cp_options);
  if (!cp.ok()) {
    std::fprintf(stderr, "berth up: %s\n", cp.error().str().c_str());
    return 1;
  }
  // The node's identity: a client certificate from the cluster CA, as
  // the TLS bootstrap would end with.
  Result<std::string> name = agent::NodeHostname(o.hostname_override);
  if (!name.ok()) {
    std::fprintf(stderr, "berth up: %s\n", name.error().str().c_str());
    return 1;
  }
  pki::CertSpec spec;
  spec.common_name = "system:node:" + *name;
  spec.organizations = {"system:nodes"};
  spec.client_auth = true;
  Result<pki::Credential> node_cert = pki::Issue((*cp)->server().pki().ca, spec);
  if (!node_cert.ok()) {
    std::fprintf(stderr, "berth up: node certificate: %s\n", node_cert.error().str().c_str());
    return 1;
  }
  o.client = (*cp)->LoopbackClient(*node_cert);
  o.hostname_override = *name;
  const std::string berth_cgroup_root = o.runtime.cgroup_root;
  const std::string kubelet_cgroup_root = o.config.cgroup_root;
  Result<std::unique_ptr<agent::Kubelet>> kubelet = agent::Kubelet::Start(o);
  if (!kubelet.ok()) {
    std::fprintf(stderr, "berth up: agent: %s\n", kubelet.error().str().c_str());
    (*cp)->Stop();
    return 1;
  }
  // The proxy: kube-proxy's identity, attached where the runtime puts the
  // pods and to berth-host for node processes.
  RunningProxy proxy;
  std::string host_cgroup;
  if (!disable_proxy) {
    Result<RunningProxy> started = [&]() -> Result<RunningProxy> {
      NodeCgroups where = BERTH_TRY(ResolveNodeCgroups(berth_cgroup_root, kubelet_cgroup_root));
      pki::CertSpec proxy_spec;
      proxy_spec.common_name = "system:kube-proxy";
      proxy_spec.client_auth = true;
      pki::Credential cert =
          BERTH_TRY_CTX(pki::Issue((*cp)->server().pki().ca, proxy_spec), "proxy certificate");
      host_cgroup = proxy_options.host_cgroup.empty() ? where.host : proxy_options.host_cgroup;
      return StartNodeProxy(proxy_options, *name, (*cp)->LoopbackClient(cert), where);
    }();
    if (!started.ok()) {
      std::fprintf(stderr, "berth up: %s (--disable-proxy runs without it)\n",
                   started.error().str().c_str());
      (*kubelet)->Stop();
      (*cp)->Stop();
      return 1;
    }
    proxy = std::move(*started);
  }
  const std::string& kubeconfig = (*cp)->server().admin_kubeconfig();
  std::printf(
      "berth up: control plane on https://%s:%u, node %s\n"
      "admin kubeconfig: %s\n"
      "  export KUBECONFIG=%s\n"
      "  kubectl get nodes\n",
      cp_options.server.bind_address.c_str(), (*cp)->server().port(), name->c_str(),
      kubeconfig.c_str(), kubeconfig.c_str());
  if (!host_cgroup.empty()) {
    std::printf(
        "node processes reach ClusterIPs from the proxy's host cgroup:\n"
        "  echo $$ > %s/cgroup.procs\n",
        host_cgroup.c_str());
  }
  std::fflush(stdout);
  int signal = stop.Wait();
  BLOG(kInfo) << "berth up: signal " << signal
              << ", stopping (pods keep running, the pinned dataplane keeps routing)";
  proxy.Stop();
  (*kubelet)->Stop();
  (*cp)->Stop();
  return 0;
}

}  // namespace berth::cli
