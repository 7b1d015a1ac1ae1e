#include "controlplane/server/auth/rbac.h"

#include <algorithm>

#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/resources.h"
#include "controlplane/server/registry/call.h"
#include "controlplane/server/registry/meta.h"

namespace berth::controlplane::auth {
namespace {

namespace bj = boost::json;

bool Contains(const bj::object& rule, std::string_view key, std::string_view want) {
  const bj::value* list = rule.if_contains(key);
  if (list == nullptr || !list->is_array()) return false;
  return std::any_of(list->as_array().begin(), list->as_array().end(), [&](const bj::value& v) {
    return v.is_string() && (v.as_string() == "*" || v.as_string() == want);
  });
}

bool ResourceMatches(const bj::object& rule, const Attributes& a) {
  const bj::value* list = rule.if_contains("resources");
  if (list == nullptr || !list->is_array()) return false;
  std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  for (const bj::value& v : list->as_array()) {
    if (!v.is_string()) continue;
    std::string_view r = v.as_string();
    if (r == "*" || r == combined) return true;
    if (!a.subresource.empty() && r.size() == a.subresource.size() + 2 && r.starts_with("*/") &&
        r.ends_with(a.subresource)) {
      return true;
    }
  }
  return false;
}

bool NamesMatch(const bj::object& rule, const Attributes& a) {
  const bj::value* names = rule.if_contains("resourceNames");
  if (names == nullptr || !names->is_array() || names->as_array().empty()) return true;
  if (a.name.empty()) return false;
  return std::any_of(names->as_array().begin(), names->as_array().end(),
                     [&](const bj::value& v) { return v.is_string() && v.as_string() == a.name; });
}

bool UrlMatches(const bj::object& rule, const Attributes& a) {
  const bj::value* urls = rule.if_contains("nonResourceURLs");
  if (urls == nullptr || !urls->is_array()) return false;
  for (const bj::value& v : urls->as_array()) {
    if (!v.is_string()) continue;
    std::string_view u = v.as_string();
    if (u == "*" || u == a.path) return true;
    if (u.ends_with("*") && a.path.starts_with(u.substr(0, u.size() - 1))) return true;
  }
  return false;
}

std::vector<bj::object> ListObjects(storage::Store& store, const std::string& prefix) {
  std::vector<bj::object> out;
  Result<storage::ListResult> list = store.List({prefix, "", 0, 0});
  if (!list.ok()) return out;
  for (const storage::KeyValue& kv : list->items) {
    Result<bj::object> obj = registry::Decode(kv);
    if (obj.ok()) out.push_back(std::move(*obj));
  }
  return out;
}

const api::ResourceType& Rbac(const char* resource) {
  return *api::FindResource("rbac.authorization.k8s.io", "v1", resource);
}

// A role or binding; nullopt when absent or unreadable (it grants nothing).
std::optional<bj::object> GetObject(storage::Store& store, const char* resource,
                                    const std::string& ns, const std::string& name) {
  Result<std::optional<bj::object>> obj = registry::ReadObject(store, Rbac(resource), ns, name);
  return obj.ok() ? std::move(*obj) : std::nullopt;
}

const std::string& Prefix(const char* resource) {
  return Rbac(resource).storage_prefix;
}

// The rules of the role a binding names; `ns` for a Role.
std::vector<bj::object> RulesOf(storage::Store& store, const bj::object& binding,
                                const std::string& ns) {
  std::string kind = api::LookupString(binding, {"roleRef", "kind"});
  std::string name = api::LookupString(binding, {"roleRef", "name"});
  std::optional<bj::object> role;
  if (kind == "ClusterRole") role = GetObject(store, "clusterroles", "", name);
  if (kind == "Role" && !ns.empty()) role = GetObject(store, "roles", ns, name);
  std::vector<bj::object> rules;
  if (!role) return rules;
  if (const bj::value* list = role->if_contains("rules"); list && list->is_array()) {
    for (const bj::value& r : list->as_array())
      if (r.is_object()) rules.push_back(r.as_object());
  }
  return rules;
}

bool BoundTo(const bj::object& binding, const UserInfo& user, const std::string& ns) {
  const bj::value* subjects = binding.if_contains("subjects");
  if (subjects == nullptr || !subjects->is_array()) return false;
  return std::any_of(
      subjects->as_array().begin(), subjects->as_array().end(),
      [&](const bj::value& s) { return s.is_object() && SubjectMatches(s.as_object(), user, ns); });
}

}  // namespace

bool RuleAllows(const bj::object& rule, const Attributes& a) {
  if (!Contains(rule, "verbs", a.verb)) return false;
  if (!a.resource_request) return UrlMatches(rule, a);
  return Contains(rule, "apiGroups", a.group) && ResourceMatches(rule, a) && NamesMatch(rule, a);
}

bool SubjectMatches(const bj::object& subject, const UserInfo& user,
                    const std::string& binding_namespace) {
  std::string kind = api::LookupString(subject, {"kind"});
  std::string name = api::LookupString(subject, {"name"});
  if (kind == "User") return name == user.name;
  if (kind == "Group") {
    return std::find(user.groups.begin(), user.groups.end(), name) != user.groups.end();
  }
  if (kind == "ServiceAccount") {
    std::string ns = api::LookupString(subject, {"namespace"});
    if (ns.empty()) ns = binding_namespace;
    return user.name == "system:serviceaccount:" + ns + ":" + name;
  }
  return false;
}

Verdict RbacAuthorizer::Authorize(const Attributes& a) {
  for (const bj::object& binding : ListObjects(store_, Prefix("clusterrolebindings"))) {
    if (!BoundTo(binding, a.user, "")) continue;
    for (const bj::object& rule : RulesOf(store_, binding, "")) {
      if (RuleAllows(rule, a)) {
        return {Decision::kAllow,
                "RBAC: allowed by ClusterRoleBinding \"" + api::NameOf(binding) + "\""};
      }
    }
  }
  if (!a.namespace_.empty() && a.resource_request) {
    for (const bj::object& binding :
         ListObjects(store_, Prefix("rolebindings") + a.namespace_ + "/")) {
      if (!BoundTo(binding, a.user, a.namespace_)) continue;
      for (const bj::object& rule : RulesOf(store_, binding, a.namespace_)) {
        if (RuleAllows(rule, a)) {
          return {Decision::kAllow, "RBAC: allowed by RoleBinding \"" + api::NameOf(binding) + "/" +
                                        a.namespace_ + "\""};
        }
      }
    }
  }
  return {Decision::kNoOpinion, ""};
}

std::vector<bj::object> RulesFor(storage::Store& store, const UserInfo& user,
                                 const std::string& ns) {
  std::vector<bj::object> rules;
  for (const bj::object& binding : ListObjects(store, Prefix("clusterrolebindings"))) {
    if (!BoundTo(binding, user, "")) continue;
    for (bj::object& rule : RulesOf(store, binding, ""))
      rules.push_back(std::move(rule));
  }
  if (ns.empty()) return rules;
  for (const bj::object& binding : ListObjects(store, Prefix("rolebindings") + ns + "/")) {
    if (!BoundTo(binding, user, ns)) continue;
    for (bj::object& rule : RulesOf(store, binding, ns))
      rules.push_back(std::move(rule));
  }
  return rules;
}

Status EnsureBootstrapPolicy(storage::Store& store) {
  auto rule = [](bj::array groups, bj::array resources, bj::array verbs) {
    return bj::object{{"apiGroups", std::move(groups)},
                      {"resources", std::move(resources)},
                      {"verbs", std::move(verbs)}};
  };
  bj::array read{"get", "list", "watch"};
  bj::array write{"create", "delete", "deletecollection", "patch", "update"};
  bj::array workload_groups{
      "", "apps", "batch", "discovery.k8s.io", "coordination.k8s.io", "events.k8s.io"};
  bj::array viewable{"pods",
                     "pods/log",
                     "pods/status",
                     "services",
                     "services/status",
                     "endpoints",
                     "configmaps",
                     "persistentvolumeclaims",
                     "persistentvolumeclaims/status",
                     "serviceaccounts",
                     "events",
                     "namespaces",
                     "namespaces/status",
                     "deployments",
                     "deployments/scale",
                     "deployments/status",
                     "replicasets",
                     "replicasets/scale",
                     "replicasets/status",
                     "statefulsets",
                     "statefulsets/scale",
                     "statefulsets/status",
                     "daemonsets",
                     "daemonsets/status",
                     "controllerrevisions",
                     "jobs",
                     "jobs/status",
                     "endpointslices",
                     "leases"};
  // Namespaces are read, never written, with a namespaced role.
  bj::array editable;
  for (const bj::value& v : viewable)
    if (v.as_string() != "namespaces" && v.as_string() != "namespaces/status")
      editable.push_back(v);
  for (const char* extra : {"secrets", "pods/exec", "pods/attach", "pods/portforward",
                            "pods/eviction", "serviceaccounts/token"})
    editable.emplace_back(extra);
  bj::array edit_verbs = read;
  for (const bj::value& v : write)
    edit_verbs.push_back(v);

  struct Role {
    const char* name;
    bj::array rules;
  };
  std::vector<Role> roles = {
      {"cluster-admin",
       {rule({"*"}, {"*"}, {"*"}),
        bj::object{{"nonResourceURLs", bj::array{"*"}}, {"verbs", bj::array{"*"}}}}},
      {"view", {rule(workload_groups, viewable, read)}},
      {"edit",
       {rule(workload_groups, viewable, read), rule(workload_groups, editable, edit_verbs)}},
      {"admin",
       {rule(workload_groups, viewable, read), rule(workload_groups, editable, edit_verbs),
        rule({"rbac.authorization.k8s.io"}, {"roles", "rolebindings"}, edit_verbs),
        rule({"authorization.k8s.io"}, {"localsubjectaccessreviews"}, {"create"})}},
      {"system:discovery",
       {bj::object{{"nonResourceURLs",
                    bj::array{"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                              "/openapi", "/openapi/*", "/readyz", "/version", "/version/"}},
                   {"verbs", bj::array{"get"}}}}},
      {"system:basic-user",
       {rule({"authorization.k8s.io"}, {"selfsubjectaccessreviews", "selfsubjectrulesreviews"},
             {"create"}),
        rule({"authentication.k8s.io"}, {"selfsubjectreviews"}, {"create"})}},
      // As upstream's bootstrap roles of the same names, narrowed to what
      // berth's scheduler and controllers do.
      {"system:kube-scheduler",
       {rule({""}, {"events"}, {"create", "patch", "update"}),
        rule({"events.k8s.io"}, {"events"}, {"create", "patch", "update"}),
        rule({""}, {"bindings", "pods/binding"}, {"create"}),
        rule({""}, {"pods/status"}, {"patch", "update"}),
        rule({""},
             {"pods", "nodes", "namespaces", "persistentvolumeclaims", "persistentvolumes",
              "replicationcontrollers", "services"},
             read),
        rule({"apps"}, {"replicasets", "statefulsets"}, read),
        rule({"policy"}, {"poddisruptionbudgets"}, read),
        rule({"storage.k8s.io"},
             {"storageclasses", "csinodes", "csidrivers", "csistoragecapacities"}, read),
        rule({"coordination.k8s.io"}, {"leases"}, {"create", "get", "update"})}},
      // The namespace controller and the garbage collector delete and
      // update objects of every type; the others create their own kinds.
      {"system:kube-controller-manager",
       {rule({"*"}, {"*"},
             {"get", "list", "watch", "patch", "update", "delete", "deletecollection"}),
        rule({"", "apps", "batch", "discovery.k8s.io", "events.k8s.io", "coordination.k8s.io",
              "certificates.k8s.io"},
             {"pods", "pods/eviction", "events", "endpoints", "endpointslices", "replicasets",
              "controllerrevisions", "jobs", "serviceaccounts", "configmaps", "secrets", "leases",
              "serviceaccounts/token", "persistentvolumeclaims"},
             {"create"}),
        rule({"certificates.k8s.io"}, {"signers"}, {"approve", "sign"}),
        // csrapproving asks whether a requester may have its CSR approved.
        rule({"authorization.k8s.io"}, {"subjectaccessreviews"}, {"create"})}},
      // kube-proxy's (and `berth proxy`'s) identity, system:kube-proxy.
      {"system:node-proxier",
       {rule({""}, {"endpoints", "services"}, {"list", "watch"}),
        rule({""}, {"nodes"}, {"get", "list", "watch"}),
        rule({"", "events.k8s.io"}, {"events"}, {"create", "patch", "update"}),
        rule({"discovery.k8s.io"}, {"endpointslices"}, {"list", "watch"})}},
      // Whom csrapproving approves kubelet client certificates for: upstream's
      // roles; bound below to bootstrap tokens (joining) and nodes (renewing).
      // What a bootstrap token may do to join: ask for a client certificate.
      {"system:node-bootstrapper",
       {rule({"certificates.k8s.io"}, {"certificatesigningrequests"},
             {"create", "get", "list", "watch"})}},
      {"system:certificates.k8s.io:certificatesigningrequests:nodeclient",
       {rule({"certificates.k8s.io"}, {"certificatesigningrequests/nodeclient"}, {"create"})}},
      {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
       {rule({"certificates.k8s.io"}, {"certificatesigningrequests/selfnodeclient"}, {"create"})}},
      {"system:public-info-viewer",
       {bj::object{
           {"nonResourceURLs", bj::array{"/healthz", "/livez", "/readyz", "/version", "/version/"}},
           {"verbs", bj::array{"get"}}}}},
  };
  auto put = [&](const char* resource, const char* kind, const std::string& name,
                 bj::object body) -> Status {
    if (GetObject(store, resource, "", name)) return Ok();
    std::string key = Prefix(resource) + name;
    bj::object obj{
        {"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", kind},
        {"metadata",
         bj::object{{"name", name},
                    {"uid", registry::NewUid()},
                    {"creationTimestamp", registry::NowRfc3339()},
                    {"labels", bj::object{{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
                    {"annotations", bj::object{{"rbac.authorization.kubernetes.io/"
                                                "autoupdate",
                                                "true"}}}}}};
    for (auto& member : body)
      obj[member.key()] = std::move(member.value());
    Result<storage::KeyValue> made = store.Create(key, registry::Encode(obj));
    if (!made.ok() && made.error().code() != Errc::kAlreadyExists) {
      return std::move(made).error().Wrap(std::string("bootstrap ") + kind + " " + name);
    }
    return Ok();
  };
  for (Role& r : roles)
    BERTH_TRY(
        put("clusterroles", "ClusterRole", r.name, bj::object{{"rules", std::move(r.rules)}}));
  auto bind = [&](const std::string& name, const char* role, const bj::array& groups) {
    bj::array subjects;
    for (const bj::value& g : groups) {
      subjects.push_back(
          bj::object{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", g}});
    }
    return put("clusterrolebindings", "ClusterRoleBinding", name,
               bj::object{{"roleRef", bj::object{{"apiGroup", "rbac.authorization.k8s.io"},
                                                 {"kind", "ClusterRole"},
                                                 {"name", role}}},
                          {"subjects", std::move(subjects)}});
  };
  auto bind_user = [&](const std::string& name, const char* user) {
    return put(
        "clusterrolebindings", "ClusterRoleBinding", name,
        bj::object{{"roleRef", bj::object{{"apiGroup", "rbac.authorization.k8s.io"},
                                          {"kind", "ClusterRole"},
                                          {"name", name}}},
                   {"subjects", bj::array{bj::object{{"apiGroup", "rbac.authorization.k8s.io"},
                                                     {"kind", "User"},
                                                     {"name", user}}}}});
  };
  BERTH_TRY(bind("cluster-admin", "cluster-admin", {"system:masters"}));
  BERTH_TRY(bind("system:discovery", "system:discovery", {"system:authenticated"}));
  BERTH_TRY(bind("system:basic-user", "system:basic-user", {"system:authenticated"}));
  BERTH_TRY(bind("system:public-info-viewer", "system:public-info-viewer",
                 {"system:authenticated", "system:unauthenticated"}));
  BERTH_TRY(bind("berth:kubelet-bootstrap", "system:node-bootstrapper", {"system:bootstrappers"}));
  BERTH_TRY(bind("berth:node-autoapprove-bootstrap",
                 "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                 {"system:bootstrappers"}));
  BERTH_TRY(bind("berth:node-autoapprove-certificate-rotation",
                 "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                 {"system:nodes"}));
  BERTH_TRY(bind_user("system:kube-scheduler", "system:kube-scheduler"));
  BERTH_TRY(bind_user("system:kube-controller-manager", "system:kube-controller-manager"));
  BERTH_TRY(bind_user("system:node-proxier", "system:kube-proxy"));
  return Ok();
}

}  // namespace berth::controlplane::auth
