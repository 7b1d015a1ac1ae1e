#include "cmd/proxy_flags.h"

#include "agent/node/node_addresses.h"
#include "agent/pods/pod_cgroups.h"
#include "cgroups/cgroups.h"
#include "common/file.h"
#include "common/log.h"
#include "proxy-ebpf/maps/lb_dump.h"

namespace berth::cli {
namespace {

Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& text,
                                                       const std::string& flag) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    return Error(Errc::kInvalidArgument, "--" + flag + " `" + text + "`: want address:port");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535)
    return Error(Errc::kInvalidArgument, "--" + flag + " `" + text + "`: bad port");
  return std::pair{host, static_cast<uint16_t>(port)};
}

}  // namespace

void AddProxyFlags(FlagSet& flags, ProxyOptions& o) {
  flags.String("bpf-pin-dir", &o.pin_dir,
               "bpffs directory for the dataplane's maps and links (default "
               "/sys/fs/bpf/berth/<node>)");
  flags.String("proxy-cgroup-root", &o.cgroup_root,
               "cgroup v2 directory whose processes get socket load balancing: berth's pod "
               "cgroup (default: the kubepods cgroup berth's runtime puts the pods in; for "
               "`berth proxy`, <cgroup2 mount>/kubepods)");
  flags.String("proxy-host-cgroup", &o.host_cgroup,
               "an extra cgroup v2 directory of berth's for node processes (default: berth-host "
               "next to kubepods; none for `berth proxy`)");
  flags.String("lb-selection", &o.selection, "backend choice: random or maglev");
  flags.Int("maglev-table-size", &o.maglev_table_size, "Maglev table entries (a prime)");
  flags.Int("proxy-max-services", &o.max_services, "service frontend capacity of the maps");
  flags.Int("proxy-max-backends", &o.max_backends, "endpoint capacity of the maps, per family");
  flags.StringList("nodeport-addresses", &o.nodeport_addresses,
                   "addresses NodePorts are served on (default: every interface address)");
  flags.StringList("nodeport-interfaces", &o.nodeport_interfaces,
                   "network devices whose traffic from outside the node is balanced by the TC "
                   "programs: NodePorts, externalIPs and LoadBalancer IPs reached from other "
                   "hosts (default: none; clients on the node are served either way)");
  flags.String("metrics-bind-address", &o.metrics_bind_address,
               "address:port of the proxy's Prometheus metrics (empty: none)");
}

void RunningProxy::Stop() {
  metrics.reset();
  if (service) service->Stop();
}

Result<RunningProxy> StartProxy(const ProxyOptions& o, const std::string& node,
                                controlplane::client::ClientConfig api) {
  proxy::ProxyConfig config;
  config.node_name = node;
  for (const std::string& text : o.nodeport_addresses) {
    Result<proxy::IpAddress> address = proxy::IpAddress::Parse(text, "--nodeport-addresses");
    if (!address.ok()) return address.error();
    config.nodeport_addresses.push_back(*address);
  }
  proxy::DataplaneConfig& d = config.dataplane;
  d.pin_dir = PinDir(o.pin_dir, node);
  std::string cgroup = o.cgroup_root;
  if (cgroup.empty()) {
    Result<cgroups::Layout> layout = cgroups::Detect();
    if (!layout.ok()) return layout.error();
    if (layout->unified_mount.empty())
      return Error(Errc::kFailedPrecondition,
                   "no cgroup2 mount: socket load balancing attaches to cgroup v2");
    cgroup = layout->unified_mount + "/kubepods";
  }
  d.cgroups = {cgroup};
  d.tc_devices = o.nodeport_interfaces;
  if (!o.host_cgroup.empty()) d.cgroups.push_back(o.host_cgroup);
  if (o.selection == "random") {
    d.selection = proxy::Selection::kRandom;
  } else if (o.selection == "maglev") {
    d.selection = proxy::Selection::kMaglev;
  } else {
    return Error(Errc::kInvalidArgument,
                 "--lb-selection `" + o.selection + "`: want random or maglev");
  }
  if (o.maglev_table_size <= 0 || o.max_services < 2 || o.max_backends < 1)
    return Error(Errc::kInvalidArgument,
                 "--maglev-table-size, --proxy-max-services and --proxy-max-backends must be "
                 "positive");
  d.maglev_size = static_cast<uint32_t>(o.maglev_table_size);
  d.limits.max_services = static_cast<uint32_t>(o.max_services);
  d.limits.max_backends = static_cast<uint32_t>(o.max_backends);
  d.limits.max_slots = std::max<uint32_t>(d.limits.max_slots, d.limits.max_services * 32u);

  RunningProxy running;
  if (!o.metrics_bind_address.empty()) {
    Result<std::pair<std::string, uint16_t>> where =
        SplitHostPort(o.metrics_bind_address, "metrics-bind-address");
    if (!where.ok()) return where.error();
    std::string pin_dir = d.pin_dir;
    Result<std::unique_ptr<proxy::HttpEndpoint>> metrics = proxy::HttpEndpoint::Start(
        where->first, where->second, [pin_dir](const std::string& path) -> proxy::HttpAnswer {
          if (path == "/healthz" || path == "/livez") return {200, "text/plain", "ok\n"};
          if (path != "/metrics") return {404, "text/plain", "not found\n"};
          Result<proxy::LbMapFds> fds = proxy::OpenPinnedMaps(pin_dir);
          if (!fds.ok()) return {503, "text/plain", fds.error().str() + "\n"};
          Result<std::vector<proxy::FrontendStatus>> all = proxy::DumpFrontends(*fds);
          proxy::CloseMaps(*fds);
          if (!all.ok()) return {503, "text/plain", all.error().str() + "\n"};
          return {200, "text/plain; version=0.0.4; charset=utf-8", proxy::PrometheusText(*all)};
        });
    if (!metrics.ok()) return std::move(metrics).error().Wrap("proxy metrics endpoint");
    running.metrics = std::move(*metrics);
  }
  Result<std::unique_ptr<proxy::ProxyService>> service =
      proxy::ProxyService::Start(std::move(api), std::move(config));
  if (!service.ok()) return std::move(service).error().Wrap("proxy");
  running.service = std::move(*service);
  return running;
}

std::string PinDir(const std::string& flag, const std::string& node) {
  return flag.empty() ? "/sys/fs/bpf/berth/" + node : flag;
}

Result<std::string> PinDirOfThisNode(const std::string& flag,
                                     const std::string& hostname_override) {
  if (!flag.empty()) return flag;
  return PinDir(flag, BERTH_TRY(agent::NodeHostname(hostname_override)));
}

Result<NodeCgroups> ResolveNodeCgroups(const std::string& berth_root,
                                       const std::string& kubelet_cgroup_root) {
  cgroups::Layout layout = BERTH_TRY(cgroups::Detect());
  if (layout.unified_mount.empty())
    return Error(Errc::kFailedPrecondition,
                 "no cgroup2 mount: the service proxy attaches to cgroup v2 (--disable-proxy runs "
                 "without it)");
  cgroups::ResolveOptions options;
  options.berth_root = berth_root;
  options.cgroups_path =
      agent::KubepodsCgroupsPath(kubelet_cgroup_root.empty() ? "/" : kubelet_cgroup_root);
  cgroups::Placement placement = BERTH_TRY(cgroups::Resolve(layout, options));
  auto pods = placement.paths.find(cgroups::kUnified);
  if (pods == placement.paths.end())
    return Error(Errc::kFailedPrecondition,
                 "no cgroup2 directory for the pods' cgroup " + options.cgroups_path);
  NodeCgroups out;
  out.pods = pods->second;
  out.host = Dirname(out.pods) + "/" + kHostCgroupName;
  return out;
}

Result<RunningProxy> StartNodeProxy(ProxyOptions o, const std::string& node,
                                    controlplane::client::ClientConfig api,
                                    const NodeCgroups& where) {
  // Only directories berth names itself are made; a --proxy-* directory
  // the user gave must exist (the attach check says so otherwise).
  if (o.cgroup_root.empty()) {
    BERTH_TRY(MkdirAll(where.pods, 0755));
    o.cgroup_root = where.pods;
  }
  if (o.host_cgroup.empty()) {
    BERTH_TRY(MkdirAll(where.host, 0755));
    o.host_cgroup = where.host;
  }
  RunningProxy running = BERTH_TRY(StartProxy(o, node, std::move(api)));
  BLOG(kInfo) << "proxy: Services for the pods in " << o.cgroup_root << " and the processes in "
              << o.host_cgroup << "; pins in " << PinDir(o.pin_dir, node);
  return running;
}

}  // namespace berth::cli
