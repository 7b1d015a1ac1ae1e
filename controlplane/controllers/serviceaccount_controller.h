#pragma once
// The service account controller, as upstream's: every active namespace
// has a ServiceAccount named "default" (pods that name none run as it),
// made when the namespace appears and made again when it is deleted.
// Namespaces being deleted are left alone.

#include <string>

#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

class ServiceAccountController : public Controller {
 public:
  ServiceAccountController(client::ClientConfig config, SharedInformers& informers, int workers);
  ~ServiceAccountController() override;

 protected:
  // `key`: a namespace name.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return namespaces_.Synced() && service_accounts_.Synced(); }

 private:
  // Of the "default" ServiceAccounts: a deleted one is made again.
  client::InformerHandlers Handlers();

  const client::Informer& namespaces_;
  const client::Informer& service_accounts_;  // only the "default" ones
};

}  // namespace berth::controlplane::controllers
