#pragma once
// The Node authorizer: what a kubelet (user system:node:<name> in group
// system:nodes) may do, after upstream's node authorizer and the
// system:node rules it carries. Reads of secrets, configmaps and
// persistentvolumeclaims are allowed only for objects a pod bound to the
// node references; writes to Nodes, Leases and pod status only for the
// node's own. Everything else it has no opinion on (RBAC decides).

#include "controlplane/server/auth/authorizer.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane::auth {

class NodeAuthorizer : public Authorizer {
 public:
  explicit NodeAuthorizer(storage::Store& store) : store_(store) {}
  Verdict Authorize(const Attributes& a) override;

 private:
  // A pod bound to `node` in `ns` references `kind` `name` (secret,
  // configmap, persistentvolumeclaim).
  bool PodReferences(const std::string& node, const std::string& ns, const std::string& kind,
                     const std::string& name);
  bool PodBoundTo(const std::string& node, const std::string& ns, const std::string& name);

  storage::Store& store_;
};

// The node name of a node identity; "" when `user` is not one.
std::string NodeName(const UserInfo& user);

}  // namespace berth::controlplane::auth
