#pragma once
// RBAC (rbac.authorization.k8s.io/v1) over the stored Roles, ClusterRoles,
// RoleBindings and ClusterRoleBindings: a request is allowed when a rule
// of a role bound to the user (by name, group or service account) covers
// its verb, API group, resource/subresource, resource name or
// non-resource URL. Aggregation is not evaluated.

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "controlplane/server/auth/authorizer.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane::auth {

class RbacAuthorizer : public Authorizer {
 public:
  explicit RbacAuthorizer(storage::Store& store) : store_(store) {}
  Verdict Authorize(const Attributes& a) override;

 private:
  storage::Store& store_;
};

// Whether one PolicyRule covers the request.
bool RuleAllows(const boost::json::object& rule, const Attributes& a);
// Whether a binding subject is the user.
bool SubjectMatches(const boost::json::object& subject, const UserInfo& user,
                    const std::string& binding_namespace);

// Every rule bound to `user`: cluster-wide, and in `ns` when given
// (SelfSubjectRulesReview).
std::vector<boost::json::object> RulesFor(storage::Store& store, const UserInfo& user,
                                          const std::string& ns);

// Upstream's default roles and bindings that matter here (cluster-admin,
// admin, edit, view, system:discovery, system:basic-user,
// system:public-info-viewer), made when missing.
Status EnsureBootstrapPolicy(storage::Store& store);

}  // namespace berth::controlplane::auth
