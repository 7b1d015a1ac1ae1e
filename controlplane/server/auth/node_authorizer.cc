#include "controlplane/server/auth/node_authorizer.h"

#include <algorithm>
#include <boost/json.hpp>

#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/resources.h"
#include "controlplane/server/registry/call.h"

namespace berth::controlplane::auth {
namespace {

namespace bj = boost::json;

bool In(std::string_view verb, std::initializer_list<std::string_view> verbs) {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

Verdict Allow(const std::string& why) {
  return {Decision::kAllow, "node authorizer: " + why};
}

// Upstream's node authorizer has no opinion on what it refuses (RBAC may
// still allow it); the reason stays for the Forbidden message.
Verdict Deny(const std::string& why) {
  return {Decision::kNoOpinion, "node authorizer: " + why};
}

// Calls `visit(kind, name)` for every secret, configmap and claim a pod
// spec names.
template <class Visit>
void References(const bj::object& pod, Visit visit) {
  auto str = [](const bj::value& v, std::initializer_list<std::string_view> path) {
    return v.is_object() ? api::LookupString(v.as_object(), path) : std::string();
  };
  auto each = [](const bj::value* list, auto fn) {
    if (list != nullptr && list->is_array())
      for (const bj::value& item : list->as_array())
        fn(item);
  };
  const bj::value* spec = pod.if_contains("spec");
  if (spec == nullptr || !spec->is_object()) return;
  const bj::object& s = spec->as_object();
  each(s.if_contains("imagePullSecrets"),
       [&](const bj::value& r) { visit("secrets", str(r, {"name"})); });
  each(s.if_contains("volumes"), [&](const bj::value& v) {
    visit("secrets", str(v, {"secret", "secretName"}));
    visit("configmaps", str(v, {"configMap", "name"}));
    visit("persistentvolumeclaims", str(v, {"persistentVolumeClaim", "claimName"}));
    if (v.is_object()) {
      each(api::Lookup(v.as_object(), {"projected", "sources"}), [&](const bj::value& src) {
        visit("secrets", str(src, {"secret", "name"}));
        visit("configmaps", str(src, {"configMap", "name"}));
      });
    }
  });
  for (const char* key : {"containers", "initContainers", "ephemeralContainers"}) {
    each(s.if_contains(key), [&](const bj::value& c) {
      if (!c.is_object()) return;
      each(c.as_object().if_contains("env"), [&](const bj::value& e) {
        visit("secrets", str(e, {"valueFrom", "secretKeyRef", "name"}));
        visit("configmaps", str(e, {"valueFrom", "configMapKeyRef", "name"}));
      });
      each(c.as_object().if_contains("envFrom"), [&](const bj::value& e) {
        visit("secrets", str(e, {"secretRef", "name"}));
        visit("configmaps", str(e, {"configMapRef", "name"}));
      });
    });
  }
}

}  // namespace

std::string NodeName(const UserInfo& user) {
  constexpr std::string_view kPrefix = "system:node:";
  if (!user.name.starts_with(kPrefix)) return "";
  if (std::find(user.groups.begin(), user.groups.end(), "system:nodes") == user.groups.end()) {
    return "";
  }
  return user.name.substr(kPrefix.size());
}

bool NodeAuthorizer::PodReferences(const std::string& node, const std::string& ns,
                                   const std::string& kind, const std::string& name) {
  const std::string& prefix = api::FindResource("", "v1", "pods")->storage_prefix;
  Result<storage::ListResult> pods = store_.List({prefix + ns + "/", "", 0, 0});
  if (!pods.ok()) return false;
  for (const storage::KeyValue& kv : pods->items) {
    Result<bj::object> pod = registry::Decode(kv);
    if (!pod.ok() || api::LookupString(*pod, {"spec", "nodeName"}) != node) continue;
    bool found = false;
    References(*pod, [&](std::string_view k, const std::string& n) {
      found = found || (k == kind && n == name);
    });
    if (found) return true;
  }
  return false;
}

bool NodeAuthorizer::PodBoundTo(const std::string& node, const std::string& ns,
                                const std::string& name) {
  Result<std::optional<bj::object>> pod =
      registry::ReadObject(store_, *api::FindResource("", "v1", "pods"), ns, name);
  return pod.ok() && *pod && api::LookupString(**pod, {"spec", "nodeName"}) == node;
}

Verdict NodeAuthorizer::Authorize(const Attributes& a) {
  std::string node = NodeName(a.user);
  if (node.empty()) return {};
  if (!a.resource_request) {
    return In(a.verb, {"get"}) ? Allow("discovery and health") : Verdict{};
  }
  const std::string& r = a.resource;
  const std::string& g = a.group;
  bool read = In(a.verb, {"get", "list", "watch"});
  if (g.empty() && (r == "secrets" || r == "configmaps" || r == "persistentvolumeclaims")) {
    if (a.verb != "get" || a.name.empty()) {
      return Deny("can only get individual " + r + " referenced by pods on node " + node);
    }
    if (PodReferences(node, a.namespace_, r, a.name)) {
      return Allow("referenced by a pod on node " + node);
    }
    return Deny("no relationship found between node '" + node + "' and this object");
  }
  if (g.empty() && r == "nodes") {
    if (read) return Allow("nodes are readable");
    if (a.verb == "create" && a.subresource.empty()) return Allow("a node registers itself");
    if (In(a.verb, {"update", "patch"}) && a.name == node) return Allow("its own Node");
    if (In(a.verb, {"update", "patch", "delete"})) return Deny("may only change its own Node");
    return {};
  }
  if (g.empty() && r == "pods") {
    if (read && a.subresource.empty()) return Allow("pods are readable");
    if (a.subresource == "status" && In(a.verb, {"update", "patch"})) {
      return PodBoundTo(node, a.namespace_, a.name)
                 ? Allow("status of a pod on node " + node)
                 : Deny("may only update the status of pods bound to it");
    }
    if (a.subresource.empty() && a.verb == "delete") {
      return PodBoundTo(node, a.namespace_, a.name) ? Allow("a pod on node " + node)
                                                    : Deny("may only delete pods bound to it");
    }
    // Mirror pods of its static pods; NodeRestriction admission checks
    // that a created pod is one (admission/node_restriction.h).
    if (a.subresource.empty() && a.verb == "create") return Allow("a mirror pod");
    return {};
  }
  if (g.empty() && (r == "services" || r == "endpoints") && read) return Allow(r + " are readable");
  if (g == "discovery.k8s.io" && r == "endpointslices" && read) return Allow("slices are readable");
  if ((g.empty() || g == "events.k8s.io") && r == "events" &&
      In(a.verb, {"create", "update", "patch"})) {
    return Allow("events");
  }
  if (g == "coordination.k8s.io" && r == "leases") {
    if (a.namespace_ != "kube-node-lease") return {};
    if (a.verb == "create" || a.name == node) return Allow("its own Lease");
    return Deny("may only use its own Lease");
  }
  if (g == "certificates.k8s.io" && r == "certificatesigningrequests" &&
      In(a.verb, {"create", "get", "list", "watch"}) && a.subresource.empty()) {
    return Allow("certificate signing requests");
  }
  if ((g == "authentication.k8s.io" && r == "tokenreviews") ||
      (g == "authorization.k8s.io" && r == "subjectaccessreviews")) {
    if (a.verb == "create") return Allow("reviews for the kubelet API");
  }
  if (g == "storage.k8s.io" && (r == "csinodes" || r == "csidrivers" || r == "volumeattachments") &&
      (read || (r == "csinodes" && a.name == node))) {
    return Allow(r);
  }
  return {};
}

}  // namespace berth::controlplane::auth
