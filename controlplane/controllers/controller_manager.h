#pragma once
// berth's controller manager: upstream's kube-controller-manager role,
// run inside `berth server` as an ordinary API client (its own
// certificate, RBAC role system:kube-controller-manager), so it would
// work against any apiserver. It owns the shared informers and the
// controllers; each controller runs its own worker threads over its own
// WorkQueue. Controllers, by upstream's --controllers names:
//
//   namespace               empties deleted namespaces, then finalizes them
//   serviceaccount          the "default" ServiceAccount in every namespace
//   root-ca-cert-publisher  the kube-root-ca.crt ConfigMap in every namespace

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

struct ControllerManagerOptions {
  std::set<std::string> controllers = {"namespace", "serviceaccount", "root-ca-cert-publisher"};
  // The cluster CA certificate(s), published by root-ca-cert-publisher.
  std::string root_ca_pem;
  // Worker threads per controller (upstream: --concurrent-namespace-syncs
  // 10; its service account controller and publisher run one each).
  int namespace_workers = 10;
  int serviceaccount_workers = 1;
  int root_ca_workers = 1;
  // How long each informer watch lasts before it is resumed.
  std::chrono::seconds watch_timeout{300};
};

// Every controller name ControllerManagerOptions::controllers accepts.
const std::set<std::string>& KnownControllers();

class ControllerManager {
 public:
  ControllerManager(client::ClientConfig config, ControllerManagerOptions options);
  ~ControllerManager();  // Stop()
  ControllerManager(const ControllerManager&) = delete;
  ControllerManager& operator=(const ControllerManager&) = delete;

  // Makes the chosen controllers and starts them and their informers;
  // kInvalidArgument for an unknown controller name, or the publisher
  // without a CA. Does not wait for the informers to list.
  Status Start();
  // Stops the controllers (a sync under way finishes), then the informers.
  void Stop();
  // Every informer has listed once.
  bool Synced() const;

 private:
  client::ClientConfig config_;
  ControllerManagerOptions options_;
  std::unique_ptr<SharedInformers> informers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
};

}  // namespace berth::controlplane::controllers
