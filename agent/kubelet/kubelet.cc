#include "agent/kubelet/kubelet.h"

#include "agent/config/tls_bootstrap.h"
#include "agent/cri/cri_client.h"
#include "agent/kubelet/api_sources.h"
#include "agent/node/node_addresses.h"
#include "agent/node/node_agent.h"
#include "agent/pods/pod_cgroups.h"
#include "agent/pods/pod_manager.h"
#include "agent/probes/prober_manager.h"
#include "agent/server/kubelet_server.h"
#include "common/file.h"
#include "common/log.h"
#include "common/quantity.h"
#include "controlplane/client/api_util.h"
#include "controlplane/client/event_recorder.h"
#include "runtime/cri/embedded/embedded_runtime.h"
#include "volumes/volume_manager.h"

namespace berth::agent {

namespace bj = boost::json;
using controlplane::client::StringAt;

// Declared in the order they start; destroyed the other way round.
struct Kubelet::Parts {
  AgentOptions options;
  std::string node_name;
  std::unique_ptr<cri::EmbeddedRuntime> runtime;
  std::unique_ptr<CriClient> cri;
  controlplane::client::ClientConfig client_config;
  std::unique_ptr<controlplane::client::ApiClient> api;
  // Node status and Lease go unthrottled, as upstream gives them a client
  // of their own: a burst of pod traffic must not delay the heartbeat.
  std::unique_ptr<controlplane::client::ApiClient> node_api;
  std::unique_ptr<controlplane::client::EventRecorder> events;
  std::unique_ptr<NodeAgent> node;
  std::unique_ptr<ApiSources> sources;
  std::unique_ptr<volumes::VolumeManager> volumes;
  std::unique_ptr<ImagePuller> images;
  PodOptions pod_options;
  std::unique_ptr<PodCgroups> cgroups;
  std::unique_ptr<PodManager> pods;
  std::unique_ptr<ProberManager> probers;
  std::unique_ptr<KubeletServer> server;
  bool stopped = false;
};

namespace {

volumes::NodeAllocatable AllocatableOf(const bj::object& allocatable) {
  volumes::NodeAllocatable out;
  auto quantity = [&](const char* name, bool milli) -> int64_t {
    const bj::value* v = allocatable.if_contains(name);
    if (v == nullptr || !v->is_string()) return 0;
    Result<int64_t> q = ParseQuantity(v->get_string(), milli);
    return q.ok() ? *q : 0;
  };
  out.cpu_milli = quantity("cpu", true);
  out.memory = quantity("memory", false);
  out.ephemeral_storage = quantity("ephemeral-storage", false);
  return out;
}

Result<std::string> RuntimeName(CriClient& cri) {
  v1::VersionRequest req;
  v1::VersionResponse resp;
  BERTH_TRY(cri.Call(&v1::RuntimeService::Stub::Version, req, &resp, "CRI Version",
                     std::chrono::seconds(30)));
  BLOG(kInfo) << "container runtime: " << resp.runtime_name() << " " << resp.runtime_version()
              << " (CRI " << resp.runtime_api_version() << ")";
  return resp.runtime_name();
}

}  // namespace

Kubelet::Kubelet(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Kubelet::~Kubelet() {
  Stop();
}

const std::string& Kubelet::node_name() const {
  return parts_->node_name;
}

uint16_t Kubelet::kubelet_port() const {
  return parts_->server ? parts_->server->port() : 0;
}

Result<std::unique_ptr<Kubelet>> Kubelet::Start(AgentOptions options) {
  auto p = std::make_unique<Parts>();
  p->options = std::move(options);
  AgentOptions& o = p->options;
  const KubeletConfig& config = o.config;
  p->node_name = BERTH_TRY(NodeHostname(o.hostname_override));
  BERTH_TRY(MkdirAll(o.root_dir, 0750));

  // The runtime first: the node reports its version and readiness.
  if (o.container_runtime_endpoint.empty()) {
    p->runtime = BERTH_TRY(cri::EmbeddedRuntime::Start(o.runtime));
    p->cri = std::make_unique<CriClient>(p->runtime->InProcessChannel());
  } else {
    p->cri = BERTH_TRY(CriClient::Dial(o.container_runtime_endpoint));
  }
  std::string runtime_name = BERTH_TRY(RuntimeName(*p->cri));

  if (o.client) {
    p->client_config = *o.client;
  } else {
    TlsBootstrapOptions bootstrap;
    bootstrap.kubeconfig = o.kubeconfig;
    bootstrap.bootstrap_kubeconfig = o.bootstrap_kubeconfig;
    bootstrap.cert_dir = o.root_dir + "/pki";
    bootstrap.node_name = p->node_name;
    p->client_config = BERTH_TRY(LoadOrBootstrapClientConfig(bootstrap));
  }
  p->node_api = std::make_unique<controlplane::client::ApiClient>(p->client_config);
  controlplane::client::ClientConfig limited = p->client_config;
  limited.qps = config.kube_api_qps;
  limited.burst = config.kube_api_burst;
  p->api = std::make_unique<controlplane::client::ApiClient>(limited);
  p->events = std::make_unique<controlplane::client::EventRecorder>(p->client_config, "kubelet",
                                                                    10000, p->node_name);

  NodeOptions node;
  ApplyKubeletConfig(config, node);
  node.node_name = p->node_name;
  node.labels = o.node_labels;
  if (!o.register_with_taints.empty()) node.taints = o.register_with_taints;
  node.node_ips = BERTH_TRY(ParseNodeIps(o.node_ips));
  node.root_dir = o.root_dir;
  node.events = p->events.get();
  p->node = std::make_unique<NodeAgent>(*p->node_api, *p->cri, node);
  p->node->Start();

  NodeAgent* node_agent = p->node.get();
  p->sources = std::make_unique<ApiSources>(*p->api);
  p->sources->StartServices();
  volumes::Sources volume_sources = p->sources->ForVolumes();
  volume_sources.node = AllocatableOf(node_agent->Allocatable());
  p->volumes = std::make_unique<volumes::VolumeManager>(o.root_dir, volume_sources);
  p->images = std::make_unique<ImagePuller>(*p->cri, p->events.get(), p->sources->SecretGetter(),
                                            config.serialize_image_pulls);

  PodOptions& po = p->pod_options;
  po.node_name = p->node_name;
  po.root_dir = o.root_dir;
  po.pod_logs_dir = config.pod_logs_dir;
  po.cluster_dns = config.cluster_dns;
  if (!config.cluster_domain.empty()) po.cluster_domain = config.cluster_domain;
  po.resolv_conf = config.resolv_conf;
  po.cgroup_root = config.cgroup_root.empty() ? "/" : config.cgroup_root;
  po.serialize_image_pulls = config.serialize_image_pulls;
  po.sync_frequency = std::chrono::duration_cast<std::chrono::seconds>(config.sync_frequency);
  po.max_pods = config.max_pods;
  po.static_pod_path = config.static_pod_path;

  PodDeps deps;
  deps.options = &p->pod_options;
  deps.api = p->api.get();
  deps.cri = p->cri.get();
  deps.events = p->events.get();
  deps.images = p->images.get();
  deps.volumes = p->volumes.get();
  deps.runtime_name = runtime_name;
  // The pods' cgroups under the root the runtime resolves cgroup parents
  // against: berth's own runtime here has this process's --cgroup-root; runc
  // behind a remote runtime puts a relative cgroupRoot below its own cgroup
  // (the agent's, as they run side by side) and an absolute one at the
  // host's root, which the agent does not write to.
  if (!o.container_runtime_endpoint.empty() && po.cgroup_root.starts_with('/')) {
    BLOG(kWarn) << "pod and QoS cgroups are left to the runtime: over a remote runtime the "
                   "agent makes them only for a relative cgroupRoot (not \""
                << po.cgroup_root << "\")";
  } else {
    PodCgroupsOptions co;
    co.layout = BERTH_TRY(cgroups::Detect());
    co.berth_root = o.container_runtime_endpoint.empty() ? o.runtime.cgroup_root : "";
    co.cgroup_root = po.cgroup_root;
    p->cgroups = std::make_unique<PodCgroups>(std::move(co));
    deps.cgroups = p->cgroups.get();
  }
  deps.host_ips = [node_agent] { return node_agent->NodeIPs(); };
  deps.allocatable = [node_agent] { return AllocatableOf(node_agent->Allocatable()); };
  deps.config_map = p->sources->ConfigMapGetter();
  deps.secret = p->sources->SecretGetter();
  ApiSources* sources = p->sources.get();
  deps.services = [sources](const std::string& ns) { return sources->ServicesFor(ns); };
  deps.services_synced = [sources] { return sources->ServicesSynced(); };
  // The prober reports to the pod manager, which exists only after it:
  // the callback goes through the Parts, filled in just below.
  Parts* parts = p.get();
  p->probers = std::make_unique<ProberManager>(
      *p->cri,
      [parts](const ProberManager::Update& u) {
        if (!parts->pods) return;
        bool kill = u.result == ProbeResult::kFailure &&
                    (u.kind == ProbeKind::kLiveness || u.kind == ProbeKind::kStartup);
        std::string message = kill ? "Container " + u.container_name + " failed " +
                                         (u.kind == ProbeKind::kLiveness ? "liveness" : "startup") +
                                         " probe, will be restarted"
                                   : "";
        parts->pods->ProbeChanged(u.pod_uid, u.container_name, kill, message);
      },
      p->events.get());
  deps.probers = p->probers.get();
  p->pods = std::make_unique<PodManager>(deps);
  BERTH_TRY(p->pods->Start());

  KubeletServerOptions so;
  so.address = config.address;
  so.port = config.port;
  if (!config.tls_cert_file.empty()) {
    so.tls_cert_pem = BERTH_TRY(ReadFile(config.tls_cert_file));
    so.tls_key_pem = BERTH_TRY(ReadFile(config.tls_private_key_file));
  }
  so.root_dir = o.root_dir;
  so.node_name = p->node_name;
  so.node_ips = node_agent->NodeIPs();
  // Client certificates are checked against clientCAFile, or the cluster
  // CA of the kubeconfig when none is configured.
  so.client_ca_pem = config.authentication.x509_client_ca_file.empty()
                         ? p->client_config.ca_pem
                         : BERTH_TRY(ReadFile(config.authentication.x509_client_ca_file));
  so.anonymous = config.authentication.anonymous_enabled;
  so.webhook_authn = config.authentication.webhook_enabled;
  so.authz = config.authorization.mode == "AlwaysAllow" ? KubeletServerOptions::Authz::kAlwaysAllow
                                                        : KubeletServerOptions::Authz::kWebhook;
  so.pod_logs_dir = config.pod_logs_dir;
  KubeletServerDeps sd;
  sd.cri = p->cri.get();
  sd.api = p->api.get();
  PodManager* pods = p->pods.get();
  sd.pods = [pods] { return pods->Pods(); };
  p->server = BERTH_TRY(KubeletServer::Start(so, sd));
  BLOG(kInfo) << "berth agent: node " << p->node_name << ", kubelet API on port "
              << p->server->port();
  return std::unique_ptr<Kubelet>(new Kubelet(std::move(p)));
}

void Kubelet::Stop() {
  if (!parts_ || parts_->stopped) return;
  parts_->stopped = true;
  if (parts_->server) parts_->server->Stop();
  if (parts_->pods) parts_->pods->Stop();
  parts_->probers.reset();
  if (parts_->sources) parts_->sources->StopServices();
  if (parts_->node) parts_->node->Stop();
  if (parts_->events) parts_->events->Flush();
  if (parts_->runtime) parts_->runtime->Shutdown();
}

}  // namespace berth::agent
