#include "controlplane/controllers/workload_pods.h"

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string PodsUrl(const std::string& ns) {
  return "/api/v1/namespaces/" + ns + "/pods";
}

}  // namespace

bj::object ControllerRef(const bj::object& owner, OwnerKind kind) {
  return ControllerRefTo(owner, kind.api_version, kind.kind);
}

bool IsControlledBy(const bj::object& obj, const bj::object& owner) {
  std::optional<OwnerRef> ref = ControllerOf(obj);
  return ref && ref->uid == StringAt(owner, {"metadata", "uid"});
}

client::ObjectRef RefOf(const bj::object& owner, OwnerKind kind) {
  return client::ObjectRef{std::string(kind.api_version), std::string(kind.kind),
                           StringAt(owner, {"metadata", "namespace"}),
                           StringAt(owner, {"metadata", "name"}),
                           StringAt(owner, {"metadata", "uid"})};
}

bj::object PodFromTemplate(const bj::object& pod_template, const bj::object& owner,
                           const bj::object& controller_ref) {
  bj::object meta;
  for (const char* field : {"labels", "annotations", "finalizers"}) {
    const bj::value* v = api::Lookup(pod_template, {"metadata", field});
    if (v != nullptr && !v->is_null()) meta[field] = *v;
  }
  meta["generateName"] = StringAt(owner, {"metadata", "name"}) + "-";
  meta["ownerReferences"] = bj::array{controller_ref};
  bj::object pod{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(meta)}};
  const bj::value* spec = pod_template.if_contains("spec");
  pod["spec"] = spec != nullptr && spec->is_object() ? *spec : bj::object();
  return pod;
}

std::string PodPhase(const bj::object& pod) {
  return StringAt(pod, {"status", "phase"});
}

time_t CreationTime(const bj::object& obj) {
  time_t t = api::ParseRfc3339(StringAt(obj, {"metadata", "creationTimestamp"}));
  return t < 0 ? 0 : t;
}

std::optional<int64_t> IntAt(const bj::object& obj, std::initializer_list<std::string_view> path) {
  const bj::value* v = api::Lookup(obj, path);
  if (v == nullptr || !v->is_int64()) return std::nullopt;
  return v->as_int64();
}

const bj::object* LabelsOf(const bj::object& obj) {
  const bj::value* labels = api::Lookup(obj, {"metadata", "labels"});
  return labels != nullptr ? labels->if_object() : nullptr;
}

Result<api::LabelSelector> WorkloadSelector(const bj::object& workload) {
  const bj::value* selector = api::Lookup(workload, {"spec", "selector"});
  if (selector == nullptr) return Error(Errc::kInvalidArgument, "spec.selector: missing");
  return api::LabelSelector::FromJson(*selector, "spec.selector");
}

std::vector<bj::object> InNamespace(const client::Informer& informer, const std::string& ns) {
  std::vector<bj::object> out;
  for (auto& [key, obj] : informer.Snapshot()) {
    if (StringAt(obj, {"metadata", "namespace"}) == ns) out.push_back(std::move(obj));
  }
  return out;
}

Result<bj::object> PodControl::Create(client::ApiClient& api, const bj::object& owner,
                                      const bj::object& pod) {
  const std::string url = PodsUrl(StringAt(owner, {"metadata", "namespace"}));
  client::ApiResponse r = BERTH_TRY(api.Do("POST", url, bj::serialize(pod)));
  if (r.status != 201) {
    if (HasStatusCause(r, "NamespaceTerminating")) {
      return Error(Errc::kFailedPrecondition, "POST " + url + ": the namespace is terminating");
    }
    events_.Record(RefOf(owner, kind_), "Warning", "FailedCreate",
                   "Error creating: " + StatusMessage(r, "POST", url));
    return HttpError("POST", url, r);
  }
  bj::value made = r.Json();
  if (!made.is_object()) return Error(Errc::kDataLoss, "POST " + url + ": not a JSON object");
  events_.Record(RefOf(owner, kind_), "Normal", "SuccessfulCreate",
                 "Created pod: " + StringAt(made.as_object(), {"metadata", "name"}));
  return std::move(made.as_object());
}

Status PodControl::Delete(client::ApiClient& api, const bj::object& owner,
                          const std::string& name) {
  const std::string url = PodsUrl(StringAt(owner, {"metadata", "namespace"})) + "/" + name;
  client::ApiResponse r = BERTH_TRY(api.Do("DELETE", url));
  if (r.status == 200 || r.status == 202) {
    events_.Record(RefOf(owner, kind_), "Normal", "SuccessfulDelete", "Deleted pod: " + name);
    return Ok();
  }
  if (r.status != 404) {
    events_.Record(RefOf(owner, kind_), "Warning", "FailedDelete",
                   "Error deleting: " + StatusMessage(r, "DELETE", url));
  }
  return HttpError("DELETE", url, r);
}

Result<std::vector<bj::object>> ClaimPods(client::ApiClient& api, const bj::object& owner,
                                          OwnerKind kind, const std::string& owner_url,
                                          const api::LabelSelector& selector,
                                          const std::vector<bj::object>& pods) {
  RefManager manager(api, owner, std::string(kind.api_version), std::string(kind.kind), owner_url,
                     selector, [](const bj::object& pod) {
                       return PodsUrl(StringAt(pod, {"metadata", "namespace"})) + "/" +
                              StringAt(pod, {"metadata", "name"});
                     });
  return manager.Claim(pods);
}

}  // namespace berth::controlplane::controllers
