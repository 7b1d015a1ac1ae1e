// `berth server`: the bundled control plane's apiserver (controlplane/).

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cmd/flags.h"
#include "common/log.h"
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/scheduler/scheduler.h"
#include "controlplane/server/apiserver.h"

namespace berth::cli {

int RunServer(const std::vector<std::string>& args) {
  controlplane::ApiServerOptions o;
  int port = o.secure_port;
  FlagSet flags("server");
  flags.String("data-dir", &o.data_dir, "state: PKI, kubeconfig, the SQLite store");
  flags.String("bind-address", &o.bind_address, "address to serve HTTPS on");
  flags.Int("secure-port", &port, "HTTPS port (0 = any free port)");
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
  bool disable_scheduler = false;
  flags.Bool("disable-scheduler", &disable_scheduler, "do not run the bundled scheduler");
  bool disable_controller_manager = false;
  flags.Bool("disable-controller-manager", &disable_controller_manager,
             "do not run the bundled controllers (deleted namespaces then stay Terminating)");
  std::chrono::seconds node_monitor_grace{40};
  flags.Duration("node-monitor-grace-period", &node_monitor_grace,
                 "a node not heard from this long turns Ready=Unknown and is tainted unreachable");
  Result<std::vector<std::string>> rest = flags.Parse(args);
  if (!rest.ok()) {
    std::fprintf(stderr, "berth server: %s\n%s", rest.error().str().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (!rest->empty()) {
    std::fprintf(stderr, "berth server: unexpected argument \"%s\"\n", rest->front().c_str());
    return 2;
  }
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "berth server: --secure-port %d is not a port\n", port);
    return 2;
  }
  o.secure_port = static_cast<uint16_t>(port);
  log::Configure({log::Level::kInfo, log::Format::kText, 2, false});
  ::signal(SIGPIPE, SIG_IGN);
  // SIGINT/SIGTERM are waited for, not handled asynchronously; blocked
  // before any thread starts so that every thread inherits the mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  Result<std::unique_ptr<controlplane::ApiServer>> server = controlplane::ApiServer::Start(o);
  if (!server.ok()) {
    std::fprintf(stderr, "berth server: %s\n", server.error().str().c_str());
    return 1;
  }
  std::printf("berth server: serving on https://%s:%u\nadmin kubeconfig: %s\n",
              o.bind_address.c_str(), (*server)->port(), (*server)->admin_kubeconfig().c_str());
  std::fflush(stdout);
  // The scheduler is an API client of the server like any other; it
  // reaches it over loopback with its own identity.
  std::unique_ptr<controlplane::scheduler::Scheduler> scheduler;
  if (!disable_scheduler) {
    controlplane::client::ClientConfig client;
    if (o.bind_address != "0.0.0.0" && o.bind_address != "::") client.host = o.bind_address;
    client.port = (*server)->port();
    client.ca_pem = (*server)->pki().ca.cert_pem;
    client.certificate = (*server)->pki().scheduler;
    scheduler = std::make_unique<controlplane::scheduler::Scheduler>(client);
    scheduler->Start();
  }
  // So are the controllers, with the controller manager's identity.
  std::unique_ptr<controlplane::controllers::ControllerManager> controllers;
  if (!disable_controller_manager) {
    controlplane::client::ClientConfig client;
    if (o.bind_address != "0.0.0.0" && o.bind_address != "::") client.host = o.bind_address;
    client.port = (*server)->port();
    client.ca_pem = (*server)->pki().ca.cert_pem;
    client.certificate = (*server)->pki().controller_manager;
    controlplane::controllers::ControllerManagerOptions options;
    options.root_ca_pem = (*server)->pki().ca.cert_pem;
    options.signing_ca = (*server)->pki().ca;
    options.node_lifecycle.grace.monitor = node_monitor_grace;
    controllers = std::make_unique<controlplane::controllers::ControllerManager>(client, options);
    if (Status started = controllers->Start(); !started.ok()) {
      std::fprintf(stderr, "berth server: controller manager: %s\n", started.error().str().c_str());
      if (scheduler) scheduler->Stop();
      (*server)->Stop();
      return 1;
    }
  }
  int signal = 0;
  ::sigwait(&stop, &signal);
  if (controllers) controllers->Stop();
  if (scheduler) scheduler->Stop();
  (*server)->Stop();
  return 0;
}

}  // namespace berth::cli
