// The DaemonSet controller's revisions and rolling updates (upstream's
// pkg/controller/daemon/update.go).

#include <algorithm>
#include <set>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/controller_revisions.h"
#include "controlplane/controllers/daemonset_controller.h"
#include "controlplane/controllers/daemonset_nodes.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

bool SameData(const bj::object& revision, const bj::object& patch) {
  const bj::value* data = revision.if_contains("data");
  return data != nullptr && *data == bj::value(patch);
}

int64_t MaxRevision(const std::vector<bj::object>& revisions) {
  int64_t max = 0;
  for (const bj::object& r : revisions)
    max = std::max(max, RevisionNumber(r));
  return max;
}

std::string DaemonSetUrl(const bj::object& ds) {
  return "/apis/apps/v1/namespaces/" + StringAt(ds, {"metadata", "namespace"}) + "/daemonsets/" +
         StringAt(ds, {"metadata", "name"});
}

// findUpdatedPodsOnNode: the node's one new and one old pod (either may
// be null); false when it has more than one of either.
bool FindUpdatedPodsOnNode(const bj::object& ds, const std::vector<bj::object>& pods,
                           const std::string& hash, const bj::object*& new_pod,
                           const bj::object*& old_pod) {
  new_pod = nullptr;
  old_pod = nullptr;
  for (const bj::object& pod : pods) {
    if (BeingDeleted(pod)) continue;
    const bj::object*& slot = IsDaemonPodUpdated(pod, hash, ds) ? new_pod : old_pod;
    if (slot != nullptr) return false;
    slot = &pod;
  }
  return true;
}

}  // namespace

Result<DaemonSetController::History> DaemonSetController::ConstructHistory(client::ApiClient& api,
                                                                           const bj::object& ds) {
  bj::object patch = TemplatePatch(ds);
  History h;
  std::vector<bj::object> current;
  for (bj::object& revision : OwnedRevisions(revisions_, ds)) {
    if (SameData(revision, patch)) {
      current.push_back(std::move(revision));
    } else {
      h.old.push_back(std::move(revision));
    }
  }
  int64_t next = MaxRevision(h.old) + 1;
  if (current.empty()) {
    h.current = BERTH_TRY(Snapshot(api, ds, next));
  } else {
    h.current = BERTH_TRY(DedupCurrent(api, ds, std::move(current)));
    if (RevisionNumber(h.current) < next) {
      h.current = BERTH_TRY(RenumberRevision(api, std::move(h.current), next));
    }
  }
  h.hash = StringAt(h.current, {"metadata", "labels", kRevisionHashLabel});
  return h;
}

Result<bj::object> DaemonSetController::Snapshot(client::ApiClient& api, const bj::object& ds,
                                                 int64_t revision) {
  const bj::value* t = api::Lookup(ds, {"spec", "template"});
  bj::object pod_template = t != nullptr && t->is_object() ? t->as_object() : bj::object();
  std::string hash = TemplateHash(pod_template, IntAt(ds, {"status", "collisionCount"}));
  std::string name = StringAt(ds, {"metadata", "name"}) + "-" + hash;
  const bj::value* l = api::Lookup(pod_template, {"metadata", "labels"});
  bj::object labels = l != nullptr && l->is_object() ? l->as_object() : bj::object();
  labels[kRevisionHashLabel] = hash;
  bj::object patch = TemplatePatch(ds);
  Result<bj::object> made = CreateRevision(
      api, NewRevision(ds, kDaemonSetKind, name, std::move(labels), patch, revision));
  if (made.ok() || made.error().code() != Errc::kAlreadyExists) return made;
  bj::object existing = BERTH_TRY(GetRevision(api, StringAt(ds, {"metadata", "namespace"}), name));
  if (SameData(existing, patch)) return existing;
  // Another template hashed to the same name: count the collision, so
  // the next sync hashes differently.
  const std::string url = DaemonSetUrl(ds);
  client::ApiResponse fresh = BERTH_TRY(api.Do("GET", url));
  if (fresh.status != 200) return HttpError("GET", url, fresh);
  bj::value live = fresh.Json();
  if (!live.is_object()) return Error(Errc::kDataLoss, "GET " + url + ": not JSON");
  bj::object& status = api::Child(live.as_object(), "status");
  status["collisionCount"] = IntAt(live.as_object(), {"status", "collisionCount"}).value_or(0) + 1;
  client::ApiResponse r = BERTH_TRY(api.Do("PUT", url + "/status", bj::serialize(live)));
  if (r.status != 200) return HttpError("PUT", url + "/status", r);
  return Error(Errc::kAborted, "revision " + name + ": hash collision, collisionCount bumped");
}

Result<bj::object> DaemonSetController::DedupCurrent(client::ApiClient& api, const bj::object& ds,
                                                     std::vector<bj::object> current) {
  size_t keep = 0;
  for (size_t i = 0; i < current.size(); ++i)
    if (RevisionNumber(current[i]) >= RevisionNumber(current[keep])) keep = i;
  if (current.size() == 1) return std::move(current[0]);
  std::string keep_hash = StringAt(current[keep], {"metadata", "labels", kRevisionHashLabel});
  for (size_t i = 0; i < current.size(); ++i) {
    if (i == keep) continue;
    // Pods labelled with the duplicate's hash are relabelled first.
    std::string dup_hash = StringAt(current[i], {"metadata", "labels", kRevisionHashLabel});
    for (const bj::object& pod : pod_index_.List(pods_, StringAt(ds, {"metadata", "namespace"}))) {
      if (!IsControlledBy(pod, ds) ||
          StringAt(pod, {"metadata", "labels", kRevisionHashLabel}) != dup_hash) {
        continue;
      }
      const std::string url = "/api/v1/namespaces/" + StringAt(pod, {"metadata", "namespace"}) +
                              "/pods/" + StringAt(pod, {"metadata", "name"});
      bj::object patch{
          {"metadata", bj::object{{"labels", bj::object{{kRevisionHashLabel, keep_hash}}}}}};
      client::ApiResponse r =
          BERTH_TRY(api.Do("PATCH", url, bj::serialize(patch), "application/merge-patch+json"));
      if (r.status != 200 && r.status != 404) return HttpError("PATCH", url, r);
    }
    BERTH_TRY(DeleteRevision(api, current[i]));
  }
  return std::move(current[keep]);
}

Status DaemonSetController::CleanupHistory(client::ApiClient& api, const bj::object& ds,
                                           const std::vector<bj::object>& old,
                                           const NodePods& pods) {
  const bj::value* limit = api::Lookup(ds, {"spec", "revisionHistoryLimit"});
  int64_t keep = limit != nullptr && limit->is_int64() ? limit->as_int64() : 10;
  auto to_kill = static_cast<int64_t>(old.size()) - keep;
  if (to_kill <= 0) return Ok();
  std::set<std::string> live_hashes;
  for (const auto& [node, on_node] : pods)
    for (const bj::object& pod : on_node)
      live_hashes.insert(StringAt(pod, {"metadata", "labels", kRevisionHashLabel}));
  // Oldest first (OwnedRevisions sorts by revision).
  for (const bj::object& revision : old) {
    if (to_kill <= 0) break;
    if (live_hashes.contains(StringAt(revision, {"metadata", "labels", kRevisionHashLabel}))) {
      continue;
    }
    BERTH_TRY(DeleteRevision(api, revision));
    --to_kill;
  }
  return Ok();
}

Status DaemonSetController::RollingUpdate(client::ApiClient& api, const bj::object& ds,
                                          const std::vector<bj::object>& nodes, NodePods pods,
                                          const std::string& hash) {
  // updatedDesiredNodeCounts: nodes that should run a pod and have none
  // count too (as unavailable).
  int64_t desired = 0;
  std::map<std::string, const bj::object*> by_name;
  for (const bj::object& node : nodes) {
    std::string name = StringAt(node, {"metadata", "name"});
    by_name[name] = &node;
    if (!NodeShouldRunDaemonPod(node, ds).should_run) continue;
    ++desired;
    pods.try_emplace(name);
  }
  int64_t max_surge = SurgeCount(ds, desired);
  int64_t max_unavailable = UnavailableCount(ds, desired);
  // Neither surge nor unavailability allowed: upstream falls back to one.
  if (desired > 0 && max_surge == 0 && max_unavailable == 0) max_unavailable = 1;
  int64_t min_ready = api::LookupInt(ds, {"spec", "minReadySeconds"});
  time_t now = WallClockNow().tv_sec;
  auto available = [&](const bj::object* pod) { return IsPodAvailable(*pod, min_ready, now); };
  auto should_run = [&](const std::string& node) {
    auto it = by_name.find(node);
    return it != by_name.end() && NodeShouldRunDaemonPod(*it->second, ds).should_run;
  };

  if (max_surge == 0) {
    int64_t unavailable = 0;
    std::vector<std::string> replace;     // old pods that are not available anyway
    std::vector<std::string> candidates;  // old available pods
    for (const auto& [node, on_node] : pods) {
      const bj::object* new_pod = nullptr;
      const bj::object* old_pod = nullptr;
      if (!FindUpdatedPodsOnNode(ds, on_node, hash, new_pod, old_pod)) {
        queue().Add(client::ObjectKey(ds));  // the manage loop removes the extra pods first
        continue;
      }
      if ((old_pod == nullptr) == (new_pod == nullptr)) {
        ++unavailable;  // manage creates or deletes here
      } else if (new_pod != nullptr) {
        if (!available(new_pod)) ++unavailable;
      } else if (!available(old_pod)) {
        replace.push_back(StringAt(*old_pod, {"metadata", "name"}));
      } else if (unavailable < max_unavailable) {
        candidates.push_back(StringAt(*old_pod, {"metadata", "name"}));
      }
    }
    int64_t remaining = std::clamp<int64_t>(max_unavailable - unavailable, 0,
                                            static_cast<int64_t>(candidates.size()));
    replace.insert(replace.end(), candidates.begin(), candidates.begin() + remaining);
    return SyncNodes(api, ds, replace, {}, hash);
  }

  // Surge: a node with an unavailable old pod gets its new pod at once; up
  // to maxSurge nodes with available old pods get one early; an old pod
  // goes once the new one beside it is available.
  std::vector<std::string> delete_old;
  std::vector<std::string> should_not_run;  // old pods on nodes the set left
  std::vector<std::string> allowed;
  std::vector<std::string> candidates;
  int64_t surging = 0;
  int64_t num_available = 0;
  for (const auto& [node, on_node] : pods) {
    const bj::object* new_pod = nullptr;
    const bj::object* old_pod = nullptr;
    if (!FindUpdatedPodsOnNode(ds, on_node, hash, new_pod, old_pod)) {
      ++surging;
      continue;
    }
    if (old_pod != nullptr ? available(old_pod) : new_pod != nullptr && available(new_pod)) {
      ++num_available;
    }
    if (old_pod == nullptr) continue;
    if (new_pod == nullptr) {
      if (!available(old_pod)) {
        if (!should_run(node)) {
          delete_old.push_back(StringAt(*old_pod, {"metadata", "name"}));
        } else {
          allowed.push_back(node);
        }
      } else if (!should_run(node)) {
        should_not_run.push_back(StringAt(*old_pod, {"metadata", "name"}));
      } else if (surging < max_surge) {
        candidates.push_back(node);
      }
      continue;
    }
    if (!available(new_pod)) {
      ++surging;
    } else {
      delete_old.push_back(StringAt(*old_pod, {"metadata", "name"}));
    }
  }
  // Pods on nodes the set left go only while enough pods stay available.
  int64_t deletable =
      std::min<int64_t>(num_available - desired, static_cast<int64_t>(should_not_run.size()));
  for (int64_t i = 0; i < deletable; ++i)
    delete_old.push_back(should_not_run[i]);
  int64_t remaining =
      std::clamp<int64_t>(max_surge - surging, 0, static_cast<int64_t>(candidates.size()));
  allowed.insert(allowed.end(), candidates.begin(), candidates.begin() + remaining);
  return SyncNodes(api, ds, delete_old, allowed, hash);
}

}  // namespace berth::controlplane::controllers
