#include "controlplane/server/auth/authorizer.h"

namespace berth::controlplane::auth {

Verdict ChainAuthorizer::Authorize(const Attributes& a) {
  for (const std::string& g : a.user.groups)
    if (g == "system:masters") return {Decision::kAllow, "system:masters"};
  std::string reasons;
  for (Authorizer* authorizer : chain_) {
    Verdict v = authorizer->Authorize(a);
    if (v.decision != Decision::kNoOpinion) return v;
    if (!v.reason.empty()) reasons += (reasons.empty() ? "" : "; ") + v.reason;
  }
  return {Decision::kNoOpinion, reasons};
}

std::string ForbiddenMessage(const Attributes& a, const std::string& reason) {
  std::string msg;
  if (!a.resource_request) {
    msg = "forbidden: User \"" + a.user.name + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  } else {
    std::string resource = a.resource;
    if (!a.group.empty()) resource += "." + a.group;
    msg = resource;
    if (!a.name.empty()) msg += " \"" + a.name + "\"";
    msg += " is forbidden: User \"" + a.user.name + "\" cannot " + a.verb + " resource \"" +
           a.resource + (a.subresource.empty() ? "" : "/" + a.subresource) + "\" in API group \"" +
           a.group + "\"";
    msg += a.namespace_.empty() ? " at the cluster scope"
                                : " in the namespace \"" + a.namespace_ + "\"";
  }
  if (!reason.empty()) msg += ": " + reason;
  return msg;
}

}  // namespace berth::controlplane::auth
