// The ReplicaSet controller's hands: creating pods from the template and
// deleting the surplus (replicaset_controller.h).

#include <algorithm>
#include <set>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_ranking.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/controllers/replicaset_controller.h"
#include "controlplane/controllers/replicaset_status.h"
#include "controlplane/server/api/selectors.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr int64_t kBurstReplicas = 500;

std::string Namespace(const bj::object& obj) {
  return StringAt(obj, {"metadata", "namespace"});
}
std::string Name(const bj::object& obj) {
  return StringAt(obj, {"metadata", "name"});
}

client::ObjectRef RefOf(const bj::object& rs) {
  return {"apps/v1", "ReplicaSet", Namespace(rs), Name(rs), StringAt(rs, {"metadata", "uid"})};
}

// Upstream's GetPodFromTemplate.
bj::object PodFromTemplate(const bj::object& rs) {
  bj::object meta{{"generateName", Name(rs) + "-"},
                  {"namespace", Namespace(rs)},
                  {"ownerReferences", bj::array{ControllerRefTo(rs, "apps/v1", "ReplicaSet")}}};
  bj::object spec;
  if (const bj::value* tmpl = rs.at("spec").as_object().if_contains("template");
      tmpl != nullptr && tmpl->is_object()) {
    if (const bj::value* m = tmpl->as_object().if_contains("metadata"); m && m->is_object()) {
      for (const char* key : {"labels", "annotations", "finalizers"}) {
        if (const bj::value* v = m->as_object().if_contains(key); v && !v->is_null()) {
          meta[key] = *v;
        }
      }
    }
    if (const bj::value* s = tmpl->as_object().if_contains("spec"); s && s->is_object()) {
      spec = s->as_object();
    }
  }
  return bj::object{{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", std::move(meta)},
                    {"spec", std::move(spec)}};
}

}  // namespace

Status ReplicaSetController::ManageReplicas(client::ApiClient& api,
                                            const std::vector<bj::object>& pods,
                                            const bj::object& rs, const std::string& key) {
  int64_t diff = static_cast<int64_t>(pods.size()) - SpecReplicas(rs);
  if (diff < 0) {
    int64_t count = std::min(-diff, kBurstReplicas);
    expectations_.ExpectCreations(key, static_cast<int>(count));
    return CreatePods(api, rs, key, count);
  }
  if (diff > 0) {
    size_t count = static_cast<size_t>(std::min(diff, kBurstReplicas));
    return DeletePods(api, rs, key, PodsToDelete(pods, RelatedPods(rs), count, WallClockNow()));
  }
  return Ok();
}

Status ReplicaSetController::CreatePods(client::ApiClient& api, const bj::object& rs,
                                        const std::string& key, int64_t count) {
  const std::string url = "/api/v1/namespaces/" + Namespace(rs) + "/pods";
  const std::string body = bj::serialize(PodFromTemplate(rs));
  int64_t made = 0;
  std::optional<Error> failed;
  bool stop = false;
  // Slow start: batches of 1, 2, 4... so that a create that keeps failing
  // (quota, admission) fails once rather than `count` times.
  for (int64_t batch = 1; made < count && !failed && !stop; batch *= 2) {
    int64_t n = std::min(batch, count - made);
    for (int64_t i = 0; i < n && !stop; ++i) {
      Result<client::ApiResponse> r = api.Do("POST", url, body);
      if (!r.ok()) {
        failed = r.error();
        continue;
      }
      if (r->status == 201) {
        ++made;
        bj::value pod = r->Json();
        std::string name = pod.is_object() ? Name(pod.as_object()) : "";
        recorder_.Record(RefOf(rs), "Normal", "SuccessfulCreate", "Created pod: " + name);
        continue;
      }
      if (r->status == 403 && HasStatusCause(*r, "NamespaceTerminating")) {
        // Every create will fail until the namespace is gone: nothing to do.
        stop = true;
        continue;
      }
      recorder_.Record(RefOf(rs), "Warning", "FailedCreate",
                       "Error creating: " + StatusMessage(*r, "POST", url));
      failed = HttpError("POST", url, *r);
    }
  }
  // Pods never made are never seen: expect them no more.
  for (int64_t i = made; i < count; ++i)
    expectations_.CreationSkipped(key);
  if (failed) return *failed;
  return Ok();
}

Status ReplicaSetController::DeletePods(client::ApiClient& api, const bj::object& rs,
                                        const std::string& key,
                                        const std::vector<bj::object>& pods) {
  std::vector<std::string> keys;
  keys.reserve(pods.size());
  for (const bj::object& pod : pods)
    keys.push_back(client::ObjectKey(pod));
  expectations_.ExpectDeletions(key, keys);
  std::optional<Error> failed;
  for (const bj::object& pod : pods) {
    const std::string url = "/api/v1/namespaces/" + Namespace(pod) + "/pods/" + Name(pod);
    Result<client::ApiResponse> r = api.Do("DELETE", url);
    if (r.ok() && r->status == 200) {
      recorder_.Record(RefOf(rs), "Normal", "SuccessfulDelete", "Deleted pod: " + Name(pod));
      continue;
    }
    // The informer will not see this deletion.
    expectations_.DeletionObserved(key, client::ObjectKey(pod));
    if (r.ok() && r->status == 404) continue;
    Error e = r.ok() ? HttpError("DELETE", url, *r) : r.error();
    recorder_.Record(
        RefOf(rs), "Warning", "FailedDelete",
        "Error deleting: " + (r.ok() ? StatusMessage(*r, "DELETE", url) : e.message()));
    if (!failed) failed = e;
  }
  if (failed) return *failed;
  return Ok();
}

std::vector<bj::object> ReplicaSetController::RelatedPods(const bj::object& rs) const {
  std::vector<bj::object> related;
  std::optional<OwnerRef> owner = ControllerOf(rs);
  if (!owner) return related;
  std::vector<bj::object> pods = pod_index_.List(pods_, Namespace(rs));
  std::set<std::string> seen;
  for (const bj::object& sibling : rs_index_.List(replica_sets_, Namespace(rs))) {
    std::optional<OwnerRef> ref = ControllerOf(sibling);
    if (!ref || ref->uid != owner->uid) continue;
    const bj::value* sel = nullptr;
    if (const bj::value* spec = sibling.if_contains("spec"); spec && spec->is_object()) {
      sel = spec->as_object().if_contains("selector");
    }
    if (sel == nullptr) continue;
    Result<api::LabelSelector> selector = api::LabelSelector::FromJson(*sel, "spec.selector");
    if (!selector.ok()) continue;
    for (const bj::object& pod : pods) {
      const bj::value* labels = nullptr;
      if (const bj::value* m = pod.if_contains("metadata"); m && m->is_object()) {
        labels = m->as_object().if_contains("labels");
      }
      if (!selector->Matches(labels != nullptr ? labels->if_object() : nullptr)) continue;
      if (seen.insert(StringAt(pod, {"metadata", "uid"})).second) related.push_back(pod);
    }
  }
  return related;
}

}  // namespace berth::controlplane::controllers
