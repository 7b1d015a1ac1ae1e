#pragma once
// The root CA publisher, as upstream's root-ca-cert-publisher: every
// namespace has a ConfigMap "kube-root-ca.crt" whose data is exactly
// {"ca.crt": <the cluster CA>}, with upstream's kubernetes.io/description
// annotation, so that pods can verify the apiserver (projected
// service account volumes mount it). Made when the namespace appears,
// made again when deleted, put back when edited (its data whole; other
// labels and annotations are kept, as upstream keeps them).

#include <string>

#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

class RootCaController : public Controller {
 public:
  // `ca_pem`: the cluster CA certificate(s) to publish.
  RootCaController(client::ClientConfig config, SharedInformers& informers, std::string ca_pem,
                   int workers);
  ~RootCaController() override;

 protected:
  // `key`: a namespace name.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return namespaces_.Synced() && config_maps_.Synced(); }

 private:
  // Of the kube-root-ca.crt ConfigMaps: an edited or deleted one is
  // put back.
  client::InformerHandlers Handlers();
  // Puts `cm` (as stored) right when it is not.
  Status Repair(client::ApiClient& api, const std::string& ns, boost::json::object cm);

  std::string ca_pem_;
  const client::Informer& namespaces_;
  const client::Informer& config_maps_;  // only the kube-root-ca.crt ones
};

}  // namespace berth::controlplane::controllers
