// `berth agent`: the kubelet-compatible node agent (agent/), against any
// apiserver, over berth's own runtime in this process or any CRI socket;
// with --proxy, berth's service proxy in the same process.

#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "agent/config/kubeconfig.h"
#include "cmd/agent_flags.h"
#include "cmd/malloc_arenas.h"
#include "cmd/proxy_flags.h"
#include "cmd/signals_wait.h"
#include "common/log.h"

namespace berth::cli {

namespace {

// The proxy next to the agent, attached where the agent's pods are: over
// berth's runtime in this process, kubepods below the runtime's cgroup
// root; over a remote runtime, the agent makes (and so the proxy may
// attach to) kubepods only for a relative cgroupRoot, below its own cgroup.
Result<RunningProxy> StartAgentProxy(const agent::AgentOptions& o, const ProxyOptions& proxy,
                                     const std::string& proxy_kubeconfig, const std::string& node) {
  bool remote = !o.container_runtime_endpoint.empty();
  const std::string& cgroup_root = o.config.cgroup_root;
  if (remote && cgroup_root.starts_with('/') && proxy.cgroup_root.empty())
    return Error(Errc::kInvalidArgument,
                 "--proxy: over a remote runtime with cgroupRoot \"" + cgroup_root +
                     "\" the pods' cgroup is the runtime's: name it with --proxy-cgroup-root");
  NodeCgroups where = BERTH_TRY(ResolveNodeCgroups(remote ? "" : o.runtime.cgroup_root,
                                                   cgroup_root.empty() ? "/" : cgroup_root));
  // The agent's own credentials (written by the TLS bootstrap, if any, by
  // now) unless the proxy has an identity of its own.
  const std::string& kubeconfig = proxy_kubeconfig.empty() ? o.kubeconfig : proxy_kubeconfig;
  controlplane::client::ClientConfig api =
      BERTH_TRY_CTX(agent::LoadKubeconfig(kubeconfig), "proxy credentials");
  return StartNodeProxy(proxy, node, std::move(api), where);
}

}  // namespace

int RunAgent(const std::vector<std::string>& args) {
  agent::AgentOptions o;
  o.runtime.listen = "unix:///run/berth/cri.sock";
  AgentFlags values;
  FlagSet flags("agent");
  AddAgentFlags(flags, o, values, false);
  bool run_proxy = false;
  std::string proxy_kubeconfig;
  ProxyOptions proxy_options;
  flags.Bool("proxy", &run_proxy, "run berth's service proxy (kube-proxy) in this process too");
  flags.String("proxy-kubeconfig", &proxy_kubeconfig,
               "with --proxy: the proxy's identity (default: the agent's --kubeconfig)");
  AddProxyFlags(flags, proxy_options);
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth agent: %s\n%s", rest.error().str().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (!rest->empty()) {
    std::fprintf(stderr, "berth agent: unexpected argument \"%s\"\n", rest->front().c_str());
    return 2;
  }
  log::Configure({log::Level::kInfo, log::Format::kText, 2, false});
  if (Status s = FinishAgentOptions(o, values); !s.ok()) {
    std::fprintf(stderr, "berth agent: %s\n", s.error().str().c_str());
    return 2;
  }
  if (o.kubeconfig.empty()) {
    std::fprintf(stderr, "berth agent: --kubeconfig is required\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  LimitMallocArenas();
  StopSignals stop;
  Result<std::unique_ptr<agent::Kubelet>> kubelet = agent::Kubelet::Start(o);
  if (!kubelet.ok()) {
    std::fprintf(stderr, "berth agent: %s\n", kubelet.error().str().c_str());
    return 1;
  }
  RunningProxy proxy;
  if (run_proxy) {
    Result<RunningProxy> started =
        StartAgentProxy(o, proxy_options, proxy_kubeconfig, (*kubelet)->node_name());
    if (!started.ok()) {
      std::fprintf(stderr, "berth agent: %s\n", started.error().str().c_str());
      (*kubelet)->Stop();
      return 1;
    }
    proxy = std::move(*started);
  }
  int signal = stop.Wait();
  BLOG(kInfo) << "berth agent: signal " << signal << ", stopping (pods keep running)";
  proxy.Stop();
  (*kubelet)->Stop();
  return 0;
}

}  // namespace berth::cli
