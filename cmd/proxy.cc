// `berth proxy`: the kube-proxy replacement (proxy-ebpf/) against any
// apiserver; `berth proxy status` reads a node's pinned maps.

#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "agent/config/kubeconfig.h"
#include "agent/node/node_addresses.h"
#include "cmd/proxy_flags.h"
#include "cmd/signals_wait.h"
#include "common/log.h"
#include "proxy-ebpf/loader/dataplane.h"
#include "proxy-ebpf/maps/lb_dump.h"

namespace berth::cli {
namespace {

int ProxyStatus(const std::vector<std::string>& args) {
  std::string pin_dir;
  std::string node;
  FlagSet flags("proxy status");
  flags.String("bpf-pin-dir", &pin_dir, "the dataplane's pin directory");
  flags.String("hostname-override", &node, "the node (pin directory /sys/fs/bpf/berth/<node>)");
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth proxy status: %s\n%s", rest.error().str().c_str(),
                 flags.Usage().c_str());
    return 2;
  }
  Result<std::string> dir = PinDirOfThisNode(pin_dir, node);
  if (!dir.ok()) {
    std::fprintf(stderr, "berth proxy status: %s\n", dir.error().str().c_str());
    return 1;
  }
  Result<proxy::LbMapFds> fds = proxy::OpenPinnedMaps(*dir);
  if (!fds.ok()) {
    std::fprintf(stderr, "berth proxy status: %s\n", fds.error().str().c_str());
    return 1;
  }
  Result<std::vector<proxy::FrontendStatus>> all = proxy::DumpFrontends(*fds);
  proxy::CloseMaps(*fds);
  if (!all.ok()) {
    std::fprintf(stderr, "berth proxy status: %s\n", all.error().str().c_str());
    return 1;
  }
  std::fputs(proxy::FormatStatus(*all).c_str(), stdout);
  return 0;
}

}  // namespace

int RunProxy(const std::vector<std::string>& args) {
  if (!args.empty() && args.front() == "status")
    return ProxyStatus(std::vector<std::string>(args.begin() + 1, args.end()));

  std::string kubeconfig;
  std::string hostname_override;
  bool cleanup = false;
  ProxyOptions o;
  FlagSet flags("proxy");
  flags.String("kubeconfig", &kubeconfig, "kubeconfig of the proxy's identity");
  flags.String("hostname-override", &hostname_override, "the node's name (default: hostname)");
  flags.Bool("cleanup", &cleanup,
             "detach the programs, remove the pinned maps and links, and exit");
  AddProxyFlags(flags, o);
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth proxy: %s\n%s", rest.error().str().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (!rest->empty()) {
    std::fprintf(stderr, "berth proxy: unexpected argument \"%s\"\n", rest->front().c_str());
    return 2;
  }
  log::Configure({log::Level::kInfo, log::Format::kText, 2, false});
  Result<std::string> node = agent::NodeHostname(hostname_override);
  if (!node.ok()) {
    std::fprintf(stderr, "berth proxy: %s\n", node.error().str().c_str());
    return 1;
  }
  if (cleanup) {
    if (Status removed = proxy::Dataplane::Remove(PinDir(o.pin_dir, *node)); !removed.ok()) {
      std::fprintf(stderr, "berth proxy --cleanup: %s\n", removed.error().str().c_str());
      return 1;
    }
    return 0;
  }
  if (kubeconfig.empty()) {
    std::fprintf(stderr, "berth proxy: --kubeconfig is required\n");
    return 2;
  }
  Result<controlplane::client::ClientConfig> api = agent::LoadKubeconfig(kubeconfig);
  if (!api.ok()) {
    std::fprintf(stderr, "berth proxy: %s\n", api.error().str().c_str());
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  StopSignals stop;
  Result<RunningProxy> running = StartProxy(o, *node, std::move(*api));
  if (!running.ok()) {
    std::fprintf(stderr, "berth proxy: %s\n", running.error().str().c_str());
    return 1;
  }
  BLOG(kInfo) << "berth proxy: node " << *node << " serving";
  int signal = stop.Wait();
  BLOG(kInfo) << "berth proxy: signal " << signal
              << ", stopping (the pinned dataplane keeps routing)";
  running->Stop();
  return 0;
}

}  // namespace berth::cli
