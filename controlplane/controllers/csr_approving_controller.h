#pragma once
// The CSR approver (upstream --controllers name "csrapproving"): approves
// kubelet client certificate requests when a SubjectAccessReview lets the
// requester create certificatesigningrequests/selfnodeclient (a node
// renewing its own) or /nodeclient (a bootstrap token joining), as
// upstream's sarapprove does. berth also approves a kubelet serving
// request (which upstream leaves to an operator) when a node asks for
// itself and every SAN is one of that Node's status.addresses, as k3s
// does. Requests it does not recognise are left for someone else.

#include <string>

#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/kubelet_csr.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

class CsrApprovingController : public Controller {
 public:
  CsrApprovingController(client::ClientConfig config, SharedInformers& informers, int workers);
  ~CsrApprovingController() override;

 protected:
  // `key`: a CSR name.
  Status Sync(client::ApiClient& api, const std::string& key) override;
  bool CachesSynced() const override { return csrs_.Synced() && nodes_.Synced(); }

 private:
  Result<bool> Allowed(client::ApiClient& api, const CsrSpec& csr, const std::string& subresource);
  // Why the serving request does not match its node; "" when it does.
  std::string ServingSansProblem(const CsrSpec& csr) const;
  Status Approve(client::ApiClient& api, boost::json::object csr, const std::string& message);

  const client::Informer& csrs_;
  const client::Informer& nodes_;
};

}  // namespace berth::controlplane::controllers
