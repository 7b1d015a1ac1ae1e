#include "cmd/control_plane.h"

namespace berth::cli {

void AddControlPlaneFlags(FlagSet& flags, ControlPlaneOptions& c) {
  controlplane::ApiServerOptions& o = c.server;
  flags.String("data-dir", &o.data_dir, "state: PKI, kubeconfig, the SQLite store");
  flags.String("bind-address", &o.bind_address, "address to serve HTTPS on");
  flags.Int("secure-port", &c.secure_port, "HTTPS port (0 = any free port)");
  flags.String("service-cluster-ip-range", &o.service_cluster_ip_range,
               "CIDR for Service cluster IPs");
  flags.String("service-node-port-range", &o.service_node_port_range, "NodePort range");
  flags.String("datastore-endpoint", &o.datastore_endpoint,
               "\"\" or sqlite://<path> (SQLite), http(s)://host:port (etcd v3)");
  flags.String("token-auth-file", &o.token_auth_file, "static bearer tokens (CSV)");
  flags.String("advertise-host", &o.advertise_host, "host name in the admin kubeconfig");
  flags.Duration("etcd-compaction-interval", &o.compaction_interval,
                 "compact the store's history this often (0: never)");
  flags.Int("default-not-ready-toleration-seconds", &o.default_not_ready_toleration_seconds,
            "tolerationSeconds of the not-ready:NoExecute toleration added to pods without one");
  flags.Int("default-unreachable-toleration-seconds", &o.default_unreachable_toleration_seconds,
            "tolerationSeconds of the unreachable:NoExecute toleration added to pods without one");
  flags.Bool("disable-scheduler", &c.disable_scheduler, "do not run the bundled scheduler");
  flags.Bool("disable-controller-manager", &c.disable_controller_manager,
             "do not run the bundled controllers (deleted namespaces then stay Terminating)");
  flags.Duration("node-monitor-grace-period", &c.node_monitor_grace,
                 "a node not heard from this long turns Ready=Unknown and is tainted unreachable");
}

controlplane::client::ClientConfig ControlPlane::LoopbackClient(
    const pki::Credential& certificate) const {
  controlplane::client::ClientConfig client;
  const std::string& bind = options_.server.bind_address;
  if (bind != "0.0.0.0" && bind != "::") client.host = bind;
  client.port = server_->port();
  client.ca_pem = server_->pki().ca.cert_pem;
  client.certificate = certificate;
  return client;
}

Result<std::unique_ptr<ControlPlane>> ControlPlane::Start(ControlPlaneOptions o) {
  if (o.secure_port < 0 || o.secure_port > 65535) {
    return Error(Errc::kInvalidArgument,
                 "--secure-port " + std::to_string(o.secure_port) + " is not a port");
  }
  o.server.secure_port = static_cast<uint16_t>(o.secure_port);
  auto cp = std::make_unique<ControlPlane>();
  cp->options_ = o;
  cp->server_ = BERTH_TRY(controlplane::ApiServer::Start(o.server));
  if (!o.disable_scheduler) {
    cp->scheduler_ = std::make_unique<controlplane::scheduler::Scheduler>(
        cp->LoopbackClient(cp->server_->pki().scheduler));
    cp->scheduler_->Start();
  }
  if (!o.disable_controller_manager) {
    controlplane::controllers::ControllerManagerOptions options;
    options.root_ca_pem = cp->server_->pki().ca.cert_pem;
    options.signing_ca = cp->server_->pki().ca;
    options.node_lifecycle.grace.monitor = o.node_monitor_grace;
    cp->controllers_ = std::make_unique<controlplane::controllers::ControllerManager>(
        cp->LoopbackClient(cp->server_->pki().controller_manager), options);
    Status started = cp->controllers_->Start();
    if (!started.ok()) {
      return Error(started.error().code(), "controller manager: " + started.error().str());
    }
  }
  return cp;
}

ControlPlane::~ControlPlane() {
  Stop();
}

void ControlPlane::Stop() {
  if (controllers_) controllers_->Stop();
  controllers_.reset();
  if (scheduler_) scheduler_->Stop();
  scheduler_.reset();
  if (server_) server_->Stop();
}

}  // namespace berth::cli
