#include "controlplane/server/api/resources.h"

#include <set>
#include <tuple>

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {
namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kStatusVerbs = {"get", "patch", "update"};

struct Builder {
  std::vector<ResourceType> types;
  std::string group;
  std::string version = "v1";

  ResourceType& Add(const std::string& resource, const std::string& kind, bool namespaced,
                    std::vector<std::string> short_names = {}, const Kind* behaviour = nullptr) {
    ResourceType t;
    t.group = group;
    t.version = version;
    t.resource = resource;
    t.kind = kind;
    t.singular.reserve(kind.size());
    for (char c : kind)
      t.singular += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    t.namespaced = namespaced;
    t.verbs = kAllVerbs;
    t.short_names = std::move(short_names);
    t.storage_prefix = "/" + (group.empty() ? "" : group + "/") + resource + "/";
    t.behaviour = behaviour != nullptr ? behaviour : &GenericKind();
    types.push_back(std::move(t));
    return types.back();
  }
  // A type that is only created (the reviews): never stored.
  void AddReview(const std::string& resource, const std::string& kind, bool namespaced = false) {
    ResourceType& t = Add(resource, kind, namespaced);
    t.verbs = {"create"};
    t.storage_prefix.clear();
    t.behaviour = nullptr;
  }
};

void Status(ResourceType& t) {
  t.subresources.push_back({"status", t.kind, "", "", kStatusVerbs});
}
void Scale(ResourceType& t) {
  t.subresources.push_back({"scale", "Scale", "autoscaling", "v1", kStatusVerbs});
}

std::vector<ResourceType> Build() {
  Builder b;
  // core/v1
  b.Add("bindings", "Binding", true).verbs = {"create"};
  b.types.back().storage_prefix.clear();
  b.Add("configmaps", "ConfigMap", true, {"cm"}, &ConfigMapKind());
  b.Add("endpoints", "Endpoints", true, {"ep"});
  b.Add("events", "Event", true, {"ev"}, &EventKind());
  {
    ResourceType& ns = b.Add("namespaces", "Namespace", false, {"ns"}, &NamespaceKind());
    ns.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
    ns.subresources.push_back({"finalize", "Namespace", "", "", {"update"}});
    Status(ns);
  }
  {
    ResourceType& node = b.Add("nodes", "Node", false, {"no"}, &NodeKind());
    Status(node);
  }
  Status(b.Add("persistentvolumeclaims", "PersistentVolumeClaim", true, {"pvc"}));
  Status(b.Add("persistentvolumes", "PersistentVolume", false, {"pv"}));
  {
    ResourceType& pods = b.Add("pods", "Pod", true, {"po"}, &PodKind());
    pods.categories = {"all"};
    pods.subresources = {
        {"attach", "PodAttachOptions", "", "", {"create", "get"}},
        {"binding", "Binding", "", "", {"create"}},
        {"eviction", "Eviction", "policy", "v1", {"create"}},
        {"exec", "PodExecOptions", "", "", {"create", "get"}},
        {"log", "Pod", "", "", {"get"}},
        {"portforward", "PodPortForwardOptions", "", "", {"create", "get"}},
        {"status", "Pod", "", "", kStatusVerbs},
    };
  }
  b.Add("secrets", "Secret", true, {}, &SecretKind());
  {
    ResourceType& sa = b.Add("serviceaccounts", "ServiceAccount", true, {"sa"});
    sa.subresources.push_back({"token", "TokenRequest", "authentication.k8s.io", "v1", {"create"}});
  }
  {
    ResourceType& svc = b.Add("services", "Service", true, {"svc"}, &ServiceKind());
    svc.categories = {"all"};
    Status(svc);
  }

  b.group = "apps";
  for (auto [resource, kind, shortname, behaviour] :
       {std::tuple{"daemonsets", "DaemonSet", "ds", &DaemonSetKind()},
        std::tuple{"deployments", "Deployment", "deploy", &DeploymentKind()},
        std::tuple{"replicasets", "ReplicaSet", "rs", &ReplicaSetKind()},
        std::tuple{"statefulsets", "StatefulSet", "sts", &StatefulSetKind()}}) {
    ResourceType& t = b.Add(resource, kind, true, {shortname}, behaviour);
    t.categories = {"all"};
    if (t.resource != "daemonsets") Scale(t);
    Status(t);
  }
  b.Add("controllerrevisions", "ControllerRevision", true);

  b.group = "authentication.k8s.io";
  b.AddReview("selfsubjectreviews", "SelfSubjectReview");
  b.AddReview("tokenreviews", "TokenReview");
  b.group = "authorization.k8s.io";
  b.AddReview("localsubjectaccessreviews", "LocalSubjectAccessReview", true);
  b.AddReview("selfsubjectaccessreviews", "SelfSubjectAccessReview");
  b.AddReview("selfsubjectrulesreviews", "SelfSubjectRulesReview");
  b.AddReview("subjectaccessreviews", "SubjectAccessReview");

  b.group = "batch";
  {
    ResourceType& jobs = b.Add("jobs", "Job", true, {}, &JobKind());
    jobs.categories = {"all"};
    Status(jobs);
  }

  b.group = "certificates.k8s.io";
  {
    ResourceType& csr = b.Add("certificatesigningrequests", "CertificateSigningRequest", false,
                              {"csr"}, &PathSegmentNamedKind());
    csr.subresources.push_back({"approval", "CertificateSigningRequest", "", "", kStatusVerbs});
    Status(csr);
  }

  b.group = "coordination.k8s.io";
  b.Add("leases", "Lease", true);

  b.group = "discovery.k8s.io";
  b.Add("endpointslices", "EndpointSlice", true);

  b.group = "events.k8s.io";
  b.Add("events", "Event", true, {"ev"}, &EventsV1Kind()).storage_prefix = "/events/";

  b.group = "rbac.authorization.k8s.io";
  b.Add("clusterrolebindings", "ClusterRoleBinding", false, {}, &PathSegmentNamedKind());
  b.Add("clusterroles", "ClusterRole", false, {}, &PathSegmentNamedKind());
  b.Add("rolebindings", "RoleBinding", true, {}, &PathSegmentNamedKind());
  b.Add("roles", "Role", true, {}, &PathSegmentNamedKind());

  b.group = "storage.k8s.io";
  b.Add("csidrivers", "CSIDriver", false);
  b.Add("csinodes", "CSINode", false);
  b.Add("storageclasses", "StorageClass", false, {"sc"});
  Status(b.Add("volumeattachments", "VolumeAttachment", false));
  return b.types;
}

}  // namespace

const Subresource* ResourceType::FindSubresource(std::string_view name) const {
  for (const Subresource& s : subresources)
    if (s.name == name) return &s;
  return nullptr;
}

const std::vector<ResourceType>& AllResources() {
  static const std::vector<ResourceType> types = Build();
  return types;
}

const ResourceType* FindResource(std::string_view group, std::string_view version,
                                 std::string_view resource) {
  for (const ResourceType& t : AllResources())
    if (t.group == group && t.version == version && t.resource == resource) return &t;
  return nullptr;
}

std::vector<std::string> ServedGroups() {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const ResourceType& t : AllResources())
    if (seen.insert(t.group).second) out.push_back(t.group);
  return out;
}

}  // namespace berth::controlplane::api
