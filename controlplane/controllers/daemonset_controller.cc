#include "controlplane/controllers/daemonset_controller.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/daemonset_nodes.h"
#include "controlplane/controllers/pod_readiness.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;

// BurstReplicas: at most this many creations (and deletions) per sync.
constexpr size_t kBurstReplicas = 250;
constexpr std::chrono::seconds kFailedPodBackoffBase{1};
constexpr std::chrono::minutes kFailedPodBackoffMax{15};

std::string DaemonSetUrl(const bj::object& ds) {
  return "/apis/apps/v1/namespaces/" + StringAt(ds, {"metadata", "namespace"}) + "/daemonsets/" +
         StringAt(ds, {"metadata", "name"});
}

std::string PodKey(const bj::object& pod) {
  return client::ObjectKey(pod);
}

// podByCreationTimestampAndPhase: bound pods first, then the oldest.
void SortOldestFirst(std::vector<bj::object>& pods) {
  std::sort(pods.begin(), pods.end(), [](const bj::object& a, const bj::object& b) {
    bool ba = !StringAt(a, {"spec", "nodeName"}).empty();
    bool bb = !StringAt(b, {"spec", "nodeName"}).empty();
    if (ba != bb) return ba;
    time_t ta = CreationTime(a);
    time_t tb = CreationTime(b);
    if (ta != tb) return ta < tb;
    return StringAt(a, {"metadata", "name"}) < StringAt(b, {"metadata", "name"});
  });
}

// GetScaledValueFromIntOrPercent; a malformed value counts as 0.
int64_t ScaledIntOrPercent(const bj::value* v, int64_t total, bool round_up) {
  if (v == nullptr || v->is_null()) return 0;
  if (v->is_int64()) return v->as_int64();
  if (!v->is_string()) return 0;
  std::string s(v->as_string());
  if (s.empty() || s.back() != '%') return 0;
  int64_t percent = 0;
  try {
    percent = std::stoll(s.substr(0, s.size() - 1));
  } catch (const std::exception&) {
    return 0;
  }
  double scaled = static_cast<double>(percent) * static_cast<double>(total) / 100.0;
  return static_cast<int64_t>(round_up ? std::ceil(scaled) : std::floor(scaled));
}

}  // namespace

bool IsDaemonPodUpdated(const bj::object& pod, const std::string& hash, const bj::object& ds) {
  std::string generation = StringAt(ds, {"metadata", "annotations", kTemplateGenerationAnnotation});
  if (!generation.empty() &&
      StringAt(pod, {"metadata", "labels", kTemplateGenerationLabel}) == generation) {
    return true;
  }
  return !hash.empty() && StringAt(pod, {"metadata", "labels", kRevisionHashLabel}) == hash;
}

int64_t SurgeCount(const bj::object& ds, int64_t desired) {
  if (StringAt(ds, {"spec", "updateStrategy", "type"}) != "RollingUpdate") return 0;
  return ScaledIntOrPercent(
      api::Lookup(ds, {"spec", "updateStrategy", "rollingUpdate", "maxSurge"}), desired, true);
}

int64_t UnavailableCount(const bj::object& ds, int64_t desired) {
  if (StringAt(ds, {"spec", "updateStrategy", "type"}) != "RollingUpdate") return 0;
  return ScaledIntOrPercent(
      api::Lookup(ds, {"spec", "updateStrategy", "rollingUpdate", "maxUnavailable"}), desired,
      true);
}

DaemonSetController::DaemonSetController(const client::ClientConfig& config,
                                         SharedInformers& informers, int workers)
    : Controller("daemonset", config, workers),
      events_(config, "daemonset-controller"),
      pod_control_(events_, kDaemonSetKind),
      daemonsets_(informers.Register("/apis/apps/v1/daemonsets", DaemonSetHandlers())),
      revisions_(informers.Register("/apis/apps/v1/controllerrevisions", RevisionHandlers())),
      nodes_(informers.Register("/api/v1/nodes", NodeHandlers())),
      pods_(informers.Register("/api/v1/pods", PodHandlers())) {}

DaemonSetController::~DaemonSetController() {
  Stop();
}

bool DaemonSetController::CachesSynced() const {
  return daemonsets_.Synced() && revisions_.Synced() && nodes_.Synced() && pods_.Synced();
}

// ---- informer handlers

client::InformerHandlers DaemonSetController::DaemonSetHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& ds) { queue().Add(client::ObjectKey(ds)); };
  h.updated = [this](const bj::object&, const bj::object& ds) {
    queue().Add(client::ObjectKey(ds));
  };
  h.deleted = [this](const bj::object& ds) { queue().Add(client::ObjectKey(ds)); };
  return h;
}

std::string DaemonSetController::OwnerKey(const bj::object& obj) const {
  std::optional<OwnerRef> ref = ControllerOf(obj);
  if (!ref || ref->kind != kDaemonSetKind.kind) return "";
  std::string key = StringAt(obj, {"metadata", "namespace"}) + "/" + ref->name;
  std::optional<bj::object> ds = daemonsets_.Get(key);
  if (!ds || StringAt(*ds, {"metadata", "uid"}) != ref->uid) return "";
  return key;
}

void DaemonSetController::QueueMatching(const bj::object& pod) {
  for (const bj::object& ds : InNamespace(daemonsets_, StringAt(pod, {"metadata", "namespace"}))) {
    Result<api::LabelSelector> selector = WorkloadSelector(ds);
    if (selector.ok() && !selector->empty() && selector->Matches(LabelsOf(pod))) {
      queue().Add(client::ObjectKey(ds));
    }
  }
}

void DaemonSetController::OnPodChanged(const bj::object* old, const bj::object& pod) {
  std::string owner = OwnerKey(pod);
  if (old != nullptr) {
    std::string old_owner = OwnerKey(*old);
    if (!old_owner.empty() && old_owner != owner) queue().Add(old_owner);
  }
  if (owner.empty()) {
    if (!ControllerOf(pod) && !BeingDeleted(pod)) QueueMatching(pod);
    return;
  }
  if (old == nullptr) creations_.CreationObserved(owner);
  // A pod being deleted counts as deleted: a replacement may be made now.
  if (BeingDeleted(pod)) deletions_.DeletionObserved(owner, PodKey(pod));
  queue().Add(owner);
}

client::InformerHandlers DaemonSetController::PodHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& pod) {
    pod_index_.Add(pod);
    OnPodChanged(nullptr, pod);
  };
  h.updated = [this](const bj::object& old, const bj::object& pod) {
    pod_index_.Add(pod);
    OnPodChanged(&old, pod);
  };
  h.deleted = [this](const bj::object& pod) {
    pod_index_.Remove(pod);
    std::string owner = OwnerKey(pod);
    if (owner.empty()) return;
    deletions_.DeletionObserved(owner, PodKey(pod));
    queue().Add(owner);
  };
  return h;
}

client::InformerHandlers DaemonSetController::NodeHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& node) {
    for (const auto& [key, ds] : daemonsets_.Snapshot())
      if (NodeShouldRunDaemonPod(node, ds).should_run) queue().Add(key);
  };
  h.updated = [this](const bj::object& old, const bj::object& node) {
    for (const auto& [key, ds] : daemonsets_.Snapshot()) {
      DaemonNodeFit was = NodeShouldRunDaemonPod(old, ds);
      DaemonNodeFit now = NodeShouldRunDaemonPod(node, ds);
      if (was.should_run != now.should_run ||
          was.should_continue_running != now.should_continue_running) {
        queue().Add(key);
      }
    }
  };
  // A deleted node's pods go by the pod garbage collector; their
  // deletion requeues the DaemonSet.
  return h;
}

client::InformerHandlers DaemonSetController::RevisionHandlers() {
  client::InformerHandlers h;
  auto changed = [this](const bj::object& revision) {
    if (std::string owner = OwnerKey(revision); !owner.empty()) queue().Add(owner);
  };
  h.added = changed;
  h.updated = [changed](const bj::object&, const bj::object& revision) { changed(revision); };
  h.deleted = changed;
  return h;
}

// ---- sync

std::vector<bj::object> DaemonSetController::Nodes() const {
  std::vector<bj::object> out;
  for (auto& [name, node] : nodes_.Snapshot())
    out.push_back(std::move(node));
  return out;
}

Result<DaemonSetController::NodePods> DaemonSetController::NodeToDaemonPods(client::ApiClient& api,
                                                                            const bj::object& ds) {
  api::LabelSelector selector = BERTH_TRY(WorkloadSelector(ds));
  std::vector<bj::object> claimed =
      BERTH_TRY(ClaimPods(api, ds, kDaemonSetKind, DaemonSetUrl(ds), selector,
                          pod_index_.List(pods_, StringAt(ds, {"metadata", "namespace"}))));
  NodePods out;
  for (bj::object& pod : claimed) {
    if (IsPodTerminal(pod) && BeingDeleted(pod)) continue;
    std::string node = TargetNodeName(pod);
    if (!node.empty()) out[node].push_back(std::move(pod));
  }
  return out;
}

DaemonSetController::NodePods DaemonSetController::CachedNodePods(const bj::object& ds) const {
  Result<api::LabelSelector> selector = WorkloadSelector(ds);
  NodePods out;
  if (!selector.ok()) return out;
  for (bj::object& pod : pod_index_.List(pods_, StringAt(ds, {"metadata", "namespace"}))) {
    if (!IsControlledBy(pod, ds) || !selector->Matches(LabelsOf(pod))) continue;
    if (IsPodTerminal(pod) && BeingDeleted(pod)) continue;
    std::string node = TargetNodeName(pod);
    if (!node.empty()) out[node].push_back(std::move(pod));
  }
  return out;
}

Status DaemonSetController::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> cached = daemonsets_.Get(key);
  if (!cached) {
    creations_.Delete(key);
    deletions_.Delete(key);
    return Ok();
  }
  const bj::object& ds = *cached;
  api::LabelSelector selector = BERTH_TRY_CTX(WorkloadSelector(ds), "daemonset " + key);
  if (selector.empty()) {
    events_.Record(RefOf(ds, kDaemonSetKind), "Warning", "SelectingAll",
                   "This daemon set is selecting all pods. A non-empty selector is required.");
    return Ok();
  }
  // Being deleted: its revisions may be going, so status cannot be told.
  if (BeingDeleted(ds)) return Ok();
  std::vector<bj::object> nodes = Nodes();
  History history = BERTH_TRY_CTX(ConstructHistory(api, ds), "daemonset " + key + ": revisions");

  auto satisfied = [&] { return creations_.Satisfied(key) && deletions_.Satisfied(key); };
  if (!satisfied()) {
    return UpdateStatus(api, ds, nodes, history.hash, false);
  }
  Status updated = [&]() -> Status {
    NodePods pods = BERTH_TRY(NodeToDaemonPods(api, ds));
    BERTH_TRY(Manage(api, ds, nodes, pods, history.hash));
    if (satisfied() && StringAt(ds, {"spec", "updateStrategy", "type"}) == "RollingUpdate") {
      BERTH_TRY(RollingUpdate(api, ds, nodes, CachedNodePods(ds), history.hash));
    }
    return CleanupHistory(api, ds, history.old, CachedNodePods(ds));
  }();
  Status status = UpdateStatus(api, ds, nodes, history.hash, true);
  if (!updated.ok()) return std::move(updated).error().Wrap("daemonset " + key);
  return status;
}

Status DaemonSetController::Manage(client::ApiClient& api, const bj::object& ds,
                                   const std::vector<bj::object>& nodes, const NodePods& pods,
                                   const std::string& hash) {
  std::vector<std::string> creations;
  std::vector<std::string> deletions;
  std::set<std::string> node_names;
  for (const bj::object& node : nodes) {
    node_names.insert(StringAt(node, {"metadata", "name"}));
    bool create = false;
    PodsShouldBeOnNode(ds, node, pods, hash, create, deletions);
    if (create) creations.push_back(StringAt(node, {"metadata", "name"}));
  }
  // Pods for nodes that are gone and never bound: the pod garbage
  // collector does not see them.
  for (const auto& [node, on_node] : pods) {
    if (node_names.contains(node)) continue;
    for (const bj::object& pod : on_node)
      if (StringAt(pod, {"spec", "nodeName"}).empty())
        deletions.push_back(StringAt(pod, {"metadata", "name"}));
  }
  return SyncNodes(api, ds, deletions, creations, hash);
}

void DaemonSetController::PodsShouldBeOnNode(const bj::object& ds, const bj::object& node,
                                             const NodePods& pods, const std::string& hash,
                                             bool& create, std::vector<std::string>& deletions) {
  DaemonNodeFit fit = NodeShouldRunDaemonPod(node, ds);
  const std::string node_name = StringAt(node, {"metadata", "name"});
  auto found = pods.find(node_name);
  bool exists = found != pods.end() && !found->second.empty();
  if (fit.should_run && !exists) {
    create = true;
    return;
  }
  if (!fit.should_continue_running) {
    if (!exists) return;
    for (const bj::object& pod : found->second)
      if (!BeingDeleted(pod)) deletions.push_back(StringAt(pod, {"metadata", "name"}));
    return;
  }
  std::vector<bj::object> running;
  for (const bj::object& pod : found->second) {
    if (BeingDeleted(pod)) continue;
    const std::string name = StringAt(pod, {"metadata", "name"});
    const std::string where = StringAt(pod, {"metadata", "namespace"}) + "/" + name;
    std::string phase = PodPhase(pod);
    if (phase == "Failed") {
      // The kubelet may keep rejecting the pod: back off between deletions.
      std::string key = StringAt(ds, {"metadata", "uid"}) + "/" +
                        std::to_string(api::LookupInt(ds, {"status", "observedGeneration"})) + "/" +
                        node_name;
      if (Clock::duration delay = FailedPodBackoff(key); delay > Clock::duration::zero()) {
        queue().AddAfter(client::ObjectKey(ds), delay);
        continue;
      }
      events_.Record(
          RefOf(ds, kDaemonSetKind), "Warning", "FailedDaemonPod",
          "Found failed daemon pod " + where + " on node " + node_name + ", will try to kill it");
      deletions.push_back(name);
    } else if (phase == "Succeeded") {
      events_.Record(RefOf(ds, kDaemonSetKind), "Normal", "SucceededDaemonPod",
                     "Found succeeded daemon pod " + where + " on node " + node_name +
                         ", will try to delete it");
      deletions.push_back(name);
    } else {
      running.push_back(pod);
    }
  }
  SortOldestFirst(running);
  if (SurgeCount(ds, 1) == 0) {
    // Without surge one pod per node: all but the oldest go.
    for (size_t i = 1; i < running.size(); ++i)
      deletions.push_back(StringAt(running[i], {"metadata", "name"}));
    return;
  }
  if (running.size() <= 1) {
    // Surging: at least one pod that is not being deleted.
    if (running.empty() && fit.should_run) create = true;
    return;
  }
  // Surging allows an old and a new pod; the old one goes once the new one
  // is available, or at once when it is not ready itself.
  const bj::object* oldest_new = nullptr;
  const bj::object* oldest_old = nullptr;
  for (const bj::object& pod : running) {
    bool is_new = StringAt(pod, {"metadata", "labels", kRevisionHashLabel}) == hash;
    const bj::object*& slot = is_new ? oldest_new : oldest_old;
    if (slot == nullptr) {
      slot = &pod;
    } else {
      deletions.push_back(StringAt(pod, {"metadata", "name"}));
    }
  }
  if (oldest_new != nullptr && oldest_old != nullptr) {
    int64_t min_ready = api::LookupInt(ds, {"spec", "minReadySeconds"});
    if (!IsPodReady(*oldest_old) || IsPodAvailable(*oldest_new, min_ready, WallClockNow().tv_sec)) {
      deletions.push_back(StringAt(*oldest_old, {"metadata", "name"}));
    }
  }
}

Clock::duration DaemonSetController::FailedPodBackoff(const std::string& key) {
  std::lock_guard lock(backoff_mu_);
  Clock::time_point now = Clock::now();
  auto it = backoff_.find(key);
  if (it != backoff_.end() && now - it->second.updated < it->second.delay) {
    return it->second.delay - (now - it->second.updated);
  }
  if (it == backoff_.end() ||
      now - it->second.updated > 2 * Clock::duration(kFailedPodBackoffMax)) {
    backoff_[key] = {kFailedPodBackoffBase, now};
  } else {
    it->second.delay = std::min<Clock::duration>(it->second.delay * 2, kFailedPodBackoffMax);
    it->second.updated = now;
  }
  return Clock::duration::zero();
}

Status DaemonSetController::SyncNodes(client::ApiClient& api, const bj::object& ds,
                                      const std::vector<std::string>& deletions,
                                      const std::vector<std::string>& creations,
                                      const std::string& hash) {
  const std::string key = client::ObjectKey(ds);
  const std::string ns = StringAt(ds, {"metadata", "namespace"});
  size_t create_n = std::min(creations.size(), kBurstReplicas);
  size_t delete_n = std::min(deletions.size(), kBurstReplicas);
  std::vector<std::string> deleting;
  for (size_t i = 0; i < delete_n; ++i)
    deleting.push_back(ns + "/" + deletions[i]);
  creations_.ExpectCreations(key, static_cast<int>(create_n));
  deletions_.ExpectDeletions(key, deleting);

  // CreatePodTemplate: the revision hash (and template generation) label
  // and the daemon tolerations.
  const bj::value* t = api::Lookup(ds, {"spec", "template"});
  bj::object pod_template = t != nullptr && t->is_object() ? t->as_object() : bj::object();
  bj::object& labels = api::Child(api::Child(pod_template, "metadata"), "labels");
  std::string generation = StringAt(ds, {"metadata", "annotations", kTemplateGenerationAnnotation});
  if (!generation.empty()) labels[kTemplateGenerationLabel] = generation;
  if (!hash.empty()) labels[kRevisionHashLabel] = hash;
  AddDaemonPodTolerations(api::Child(pod_template, "spec"));
  const bj::object ref = ControllerRef(ds, kDaemonSetKind);

  Status first_error = Ok();
  // Slow start, as upstream: batches of 1, 2, 4...; after a batch with a
  // failure the rest are not attempted (nor expected).
  size_t pos = 0;
  for (size_t batch = std::min<size_t>(create_n, 1); pos < create_n;
       batch = std::min(2 * batch, create_n - pos)) {
    bool batch_failed = false;
    for (size_t i = pos; i < pos + batch; ++i) {
      bj::object tmpl = pod_template;
      PinToNode(tmpl["spec"].as_object(), creations[i]);
      Result<bj::object> made = pod_control_.Create(api, ds, PodFromTemplate(tmpl, ds, ref));
      if (made.ok()) continue;
      creations_.CreationSkipped(key);
      // A terminating namespace refuses every pod; nothing to retry.
      if (made.error().code() == Errc::kFailedPrecondition) continue;
      if (first_error.ok()) first_error = made.error();
      batch_failed = true;
    }
    pos += batch;
    if (batch_failed) {
      for (size_t skipped = pos; skipped < create_n; ++skipped)
        creations_.CreationSkipped(key);
      break;
    }
  }
  for (size_t i = 0; i < delete_n; ++i) {
    Status gone = pod_control_.Delete(api, ds, deletions[i]);
    if (gone.ok()) continue;
    deletions_.DeletionObserved(key, deleting[i]);
    if (gone.error().code() != Errc::kNotFound && first_error.ok()) first_error = gone.error();
  }
  return first_error;
}

// ---- status

DaemonSetController::Counts DaemonSetController::Count(const bj::object& ds,
                                                       const std::vector<bj::object>& nodes,
                                                       const NodePods& pods,
                                                       const std::string& hash) const {
  Counts c;
  time_t now = WallClockNow().tv_sec;
  int64_t min_ready = api::LookupInt(ds, {"spec", "minReadySeconds"});
  for (const bj::object& node : nodes) {
    bool should_run = NodeShouldRunDaemonPod(node, ds).should_run;
    auto found = pods.find(StringAt(node, {"metadata", "name"}));
    bool scheduled = found != pods.end() && !found->second.empty();
    if (!should_run) {
      if (scheduled) ++c.misscheduled;
      continue;
    }
    ++c.desired;
    if (!scheduled) continue;
    ++c.current;
    std::vector<bj::object> on_node = found->second;
    SortOldestFirst(on_node);
    const bj::object& pod = on_node.front();
    if (IsPodReady(pod)) {
      ++c.ready;
      if (IsPodAvailable(pod, min_ready, now)) ++c.available;
    }
    if (IsDaemonPodUpdated(pod, hash, ds)) ++c.updated;
  }
  return c;
}

Status DaemonSetController::UpdateStatus(client::ApiClient& api, const bj::object& ds,
                                         const std::vector<bj::object>& nodes,
                                         const std::string& hash, bool observed_generation) {
  Counts c = Count(ds, nodes, CachedNodePods(ds), hash);
  int64_t unavailable = c.desired - c.available;
  const std::pair<const char*, int64_t> fields[] = {
      {"desiredNumberScheduled", c.desired},  {"currentNumberScheduled", c.current},
      {"numberMisscheduled", c.misscheduled}, {"numberReady", c.ready},
      {"updatedNumberScheduled", c.updated},  {"numberAvailable", c.available},
      {"numberUnavailable", unavailable}};
  int64_t generation = api::LookupInt(ds, {"metadata", "generation"});
  bool same = api::LookupInt(ds, {"status", "observedGeneration"}) >= generation;
  for (const auto& [field, value] : fields)
    same = same && api::LookupInt(ds, {"status", field}) == value;
  int64_t min_ready = api::LookupInt(ds, {"spec", "minReadySeconds"});
  if (min_ready > 0 && c.ready != c.available) {
    queue().AddAfter(client::ObjectKey(ds), std::chrono::seconds(min_ready));
  }
  if (same) return Ok();

  const std::string url = DaemonSetUrl(ds) + "/status";
  bj::object update = ds;
  // One retry on a conflict, from a fresh read, as upstream's
  // StatusUpdateRetries.
  for (int attempt = 0;; ++attempt) {
    bj::object& status = api::Child(update, "status");
    if (observed_generation) status["observedGeneration"] = generation;
    for (const auto& [field, value] : fields)
      status[field] = value;
    client::ApiResponse r = BERTH_TRY(api.Do("PUT", url, bj::serialize(update)));
    if (r.status == 200 || r.status == 404) return Ok();
    if (r.status != 409 || attempt >= 1) return HttpError("PUT", url, r);
    client::ApiResponse fresh = BERTH_TRY(api.Do("GET", DaemonSetUrl(ds)));
    if (fresh.status != 200) return HttpError("GET", DaemonSetUrl(ds), fresh);
    bj::value v = fresh.Json();
    if (!v.is_object()) return Error(Errc::kDataLoss, "GET " + DaemonSetUrl(ds) + ": not JSON");
    update = std::move(v.as_object());
  }
}

}  // namespace berth::controlplane::controllers
