#pragma once
// The controller manager as `berth server` runs it (its own certificate,
// so RBAC applies), for tests that need what controllers do: namespaces
// that finish deleting, default ServiceAccounts, kube-root-ca.crt.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "controlplane/controllers/controller_manager.h"
#include "controlplane/server/apiserver.h"

namespace berth::controlplane {

inline client::ClientConfig ControllerManagerClient(const ApiServer& server) {
  client::ClientConfig config;
  config.port = server.port();
  config.ca_pem = server.pki().ca.cert_pem;
  config.certificate = server.pki().controller_manager;
  return config;
}

// Starts a controller manager and waits until its informers listed; a
// failure fails the calling test (ASSERT inside).
inline void StartTestControllers(const ApiServer& server,
                                 std::unique_ptr<controllers::ControllerManager>& out,
                                 controllers::ControllerManagerOptions options = {}) {
  if (options.root_ca_pem.empty()) options.root_ca_pem = server.pki().ca.cert_pem;
  if (options.signing_ca.key_pem.empty()) options.signing_ca = server.pki().ca;
  auto manager =
      std::make_unique<controllers::ControllerManager>(ControllerManagerClient(server), options);
  Status started = manager->Start();
  ASSERT_TRUE(started.ok()) << started.error().str();
  for (int i = 0; i < 500 && !manager->Synced(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(manager->Synced()) << "the controller manager's informers never listed";
  out = std::move(manager);
}

}  // namespace berth::controlplane
