#pragma once
// The CSR signer (upstream --controllers name "csrsigning"): issues the
// certificate of an approved request for the signers the cluster CA
// answers for, kubernetes.io/kube-apiserver-client-kubelet,
// kubernetes.io/kubelet-serving and kubernetes.io/kube-apiserver-client,
// after the signer's own validation (a request that fails it gets the
// Failed condition, reason SignerValidationFailure). The certificate
// lives for spec.expirationSeconds (at least 10 minutes) or the signing
// duration, whichever is shorter, and never past the CA.

#include <chrono>
#include <string>

#include "common/pki/pki.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

class CsrSigningController : public Controller {
 public:
  CsrSigningController(client::ClientConfig config, SharedInformers& informers, int workers,
                       pki::Credential ca, std::chrono::seconds signing_duration);
  ~CsrSigningController() override;

 protected:
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return csrs_.Synced(); }

 private:
  Status WriteStatus(client::ApiClient& api, const boost::json::object& csr);

  const client::Informer& csrs_;
  pki::Credential ca_;
  std::chrono::seconds signing_duration_;
};

}  // namespace berth::controlplane::controllers
