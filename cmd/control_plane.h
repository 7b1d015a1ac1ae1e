#pragma once
// The bundled control plane as `berth server` and `berth up` run it: the
// apiserver, and beside it the scheduler and the controller manager as API
// clients with their own identities over loopback.

#include <chrono>
#include <memory>

#include "cmd/flags.h"
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/scheduler/scheduler.h"
#include "controlplane/server/apiserver.h"

namespace berth::cli {

struct ControlPlaneOptions {
  controlplane::ApiServerOptions server;
  int secure_port = 6443;
  bool disable_scheduler = false;
  bool disable_controller_manager = false;
  std::chrono::seconds node_monitor_grace{40};
};

// The server's flags (`berth server`, and `berth up` with them).
void AddControlPlaneFlags(FlagSet& flags, ControlPlaneOptions& o);

class ControlPlane {
 public:
  static Result<std::unique_ptr<ControlPlane>> Start(ControlPlaneOptions o);
  ~ControlPlane();  // Stop()
  void Stop();

  controlplane::ApiServer& server() { return *server_; }
  // Where an in-process client reaches the apiserver, with `certificate`.
  controlplane::client::ClientConfig LoopbackClient(const pki::Credential& certificate) const;

 private:
  ControlPlaneOptions options_;
  std::unique_ptr<controlplane::ApiServer> server_;
  std::unique_ptr<controlplane::scheduler::Scheduler> scheduler_;
  std::unique_ptr<controlplane::controllers::ControllerManager> controllers_;
};

}  // namespace berth::cli
