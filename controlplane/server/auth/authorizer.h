#pragma once
// Authorization, as kube-apiserver chains it: system:masters may do
// anything; the Node authorizer decides for kubelets (system:node:<name>
// in system:nodes); RBAC decides for everyone else. A request no
// authorizer allows is forbidden.

#include <string>
#include <vector>

#include "controlplane/server/authn.h"

namespace berth::controlplane::auth {

// What a request asks to do (kube-apiserver's authorizer.Attributes).
struct Attributes {
  UserInfo user;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection,
                     // impersonate, ...; for a non-resource request, the lower-cased method
  bool resource_request = true;
  std::string group;
  std::string resource;
  std::string subresource;
  std::string namespace_;
  std::string name;
  std::string path;  // non-resource requests
};

enum class Decision { kAllow, kDeny, kNoOpinion };

struct Verdict {
  Decision decision = Decision::kNoOpinion;
  std::string reason;  // why, for SubjectAccessReview's status.reason
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Verdict Authorize(const Attributes& a) = 0;
};

// system:masters first, then each authorizer in turn until one decides.
class ChainAuthorizer : public Authorizer {
 public:
  explicit ChainAuthorizer(std::vector<Authorizer*> chain) : chain_(std::move(chain)) {}
  Verdict Authorize(const Attributes& a) override;

 private:
  std::vector<Authorizer*> chain_;
};

// upstream's Forbidden message: `pods "x" is forbidden: User "u" cannot
// get resource "pods" in API group "" in the namespace "ns"`.
std::string ForbiddenMessage(const Attributes& a, const std::string& reason);

}  // namespace berth::controlplane::auth
