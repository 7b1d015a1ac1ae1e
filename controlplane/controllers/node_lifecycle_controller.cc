#include "controlplane/controllers/node_lifecycle_controller.h"

#include <thread>

#include "common/log.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/condition_taints.h"
#include "controlplane/controllers/node_taints.h"
#include "controlplane/controllers/pod_updates.h"
#include "controlplane/controllers/taints.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kMonitorKey[] = "monitor";
constexpr char kTaintKey[] = "taint";
constexpr char kNodePrefix[] = "node:";
constexpr char kPodPrefix[] = "pod:";
constexpr char kLeases[] = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
// Nodes with this label count for no zone's disruption.
constexpr char kExcludeDisruption[] = "node.kubernetes.io/exclude-disruption";
// How often queued nodes are looked at for tainting (NodeEvictionPeriod).
constexpr auto kTaintPassPeriod = std::chrono::milliseconds(100);
// A node's status write is tried this many times, 20 ms apart
// (NodeHealthUpdateRetry, retrySleepTime).
constexpr int kHealthAttempts = 5;
constexpr auto kHealthRetrySleep = std::chrono::milliseconds(20);

bj::object UnreachableNoExecute() {
  return MakeTaint(kTaintUnreachable, kNoExecute);
}
bj::object NotReadyNoExecute() {
  return MakeTaint(kTaintNotReady, kNoExecute);
}

std::string NameOf(const bj::object& obj) {
  return StringAt(obj, {"metadata", "name"});
}

}  // namespace

NodeLifecycleController::NodeLifecycleController(client::ClientConfig config,
                                                 SharedInformers& informers,
                                                 NodeLifecycleOptions options)
    : Controller("nodelifecycle", config, options.workers),
      options_(options),
      recorder_(std::move(config), "node-controller"),
      nodes_(informers.Register("/api/v1/nodes", NodeHandlers())),
      leases_(informers.Register(kLeases, {})),
      pods_(informers.Register("/api/v1/pods", PodHandlers())) {
  queue().Add(kMonitorKey);
}

NodeLifecycleController::~NodeLifecycleController() {
  Stop();
}

client::InformerHandlers NodeLifecycleController::NodeHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& node) { queue().Add(kNodePrefix + NameOf(node)); };
  h.updated = [this](const bj::object&, const bj::object& node) {
    queue().Add(kNodePrefix + NameOf(node));
  };
  h.deleted = [this](const bj::object& node) {
    std::lock_guard lock(mu_);
    nodes_to_retry_.erase(NameOf(node));
  };
  return h;
}

client::InformerHandlers NodeLifecycleController::PodHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& pod) {
    pods_by_node_.Added(pod);
    if (!StringAt(pod, {"spec", "nodeName"}).empty()) {
      queue().Add(kPodPrefix + client::ObjectKey(pod));
    }
  };
  h.updated = [this](const bj::object& old, const bj::object& pod) {
    pods_by_node_.Updated(old, pod);
    std::string node = StringAt(pod, {"spec", "nodeName"});
    if (!node.empty() && node != StringAt(old, {"spec", "nodeName"})) {
      queue().Add(kPodPrefix + client::ObjectKey(pod));
    }
  };
  h.deleted = [this](const bj::object& pod) { pods_by_node_.Deleted(pod); };
  return h;
}

Status NodeLifecycleController::Sync(client::ApiClient& api, const std::string& key) {
  if (key == kMonitorKey) {
    MonitorNodeHealth(api);
    queue().AddAfter(kMonitorKey, options_.monitor_period);
    return Ok();
  }
  if (key == kTaintKey) return DoNoExecuteTaintingPass(api);
  if (key.starts_with(kNodePrefix)) {
    return DoNoScheduleTaintingPass(api, key.substr(sizeof kNodePrefix - 1));
  }
  if (key.starts_with(kPodPrefix)) return ProcessPod(api, key.substr(sizeof kPodPrefix - 1));
  return Ok();
}

void NodeLifecycleController::MonitorNodeHealth(client::ApiClient& api) {
  std::map<std::string, bj::object> nodes = nodes_.Snapshot();
  std::vector<bj::object> added;
  std::vector<std::pair<std::string, std::string>> deleted;  // name, uid
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, node] : nodes) {
      if (!known_nodes_.contains(name)) {
        added.push_back(node);
      } else {
        AddZoneLocked(ZoneKey(node));
      }
    }
    for (const auto& [name, uid] : known_nodes_)
      if (!nodes.contains(name)) deleted.emplace_back(name, uid);
  }
  for (const bj::object& node : added) {
    std::string name = NameOf(node), uid = StringAt(node, {"metadata", "uid"});
    RecordNodeEvent(name, uid, "RegisteredNode",
                    "Node " + name + " event: Registered Node " + name + " in Controller");
    {
      std::lock_guard lock(mu_);
      known_nodes_[name] = uid;
      AddZoneLocked(ZoneKey(node));
    }
    if (Status s = MarkNodeAsReachable(api, node); !s.ok()) {
      BLOG(kWarn) << "nodelifecycle: node " << name << ": " << s.error().str();
    }
  }
  for (const auto& [name, uid] : deleted) {
    RecordNodeEvent(name, uid, "RemovingNode",
                    "Node " + name + " event: Removing Node " + name + " from Controller");
    std::lock_guard lock(mu_);
    known_nodes_.erase(name);
    health_.erase(name);
  }

  std::map<std::string, std::vector<bool>> zone_ready;
  for (const auto& [name, cached] : nodes) {
    bj::object node = cached;
    HealthAssessment health;
    if (!UpdateNodeHealth(api, node, health)) continue;
    bool ready = health.current_ready && StringAt(*health.current_ready, {"status"}) == "True";
    if (!Has(node, {"metadata", "labels", kExcludeDisruption})) {
      zone_ready[ZoneKey(node)].push_back(ready);
    }
    if (health.current_ready) {
      std::string observed = StringAt(health.observed_ready, {"status"});
      std::string current = StringAt(*health.current_ready, {"status"});
      ProcessTaintBasedEviction(api, node, observed);
      bool retry = false;
      {
        std::lock_guard lock(mu_);
        retry = nodes_to_retry_.contains(name);
      }
      bool went_down = current != "True" && observed == "True";
      if (went_down) {
        RecordNodeEvent(name, StringAt(node, {"metadata", "uid"}), "NodeNotReady",
                        "Node " + name + " status is now: NodeNotReady");
      }
      if (went_down || (retry && observed != "True")) {
        if (Status s = MarkPodsNotReady(api, PodsOf(name), name); !s.ok()) {
          BLOG(kWarn) << "nodelifecycle: marking the pods of node " << name
                      << " not ready: " << s.error().str() << " (retried next pass)";
          std::lock_guard lock(mu_);
          nodes_to_retry_.insert(name);
          continue;
        }
      }
    }
    std::lock_guard lock(mu_);
    nodes_to_retry_.erase(name);
  }
  HandleDisruption(api, zone_ready, nodes);
}

bool NodeLifecycleController::UpdateNodeHealth(client::ApiClient& api, bj::object& node,
                                               HealthAssessment& assessment) {
  const std::string name = NameOf(node);
  const std::string url = "/api/v1/nodes/" + name;
  for (int attempt = 1;; ++attempt) {
    std::optional<bj::object> lease = leases_.Get(std::string("kube-node-lease/") + name);
    std::optional<NodeHealth> health;
    {
      std::lock_guard lock(mu_);
      if (auto it = health_.find(name); it != health_.end()) health = it->second;
    }
    WallTime now = WallClock::now();
    assessment = AssessNodeHealth(node, lease ? &*lease : nullptr, health, options_.grace, now);
    Status written = Ok();
    if (assessment.write) {
      Result<client::ApiResponse> r = api.Do("PUT", url + "/status", bj::serialize(node));
      if (!r.ok()) {
        written = r.error();
      } else if (r->status != 200) {
        written = HttpError("PUT", url + "/status", *r);
      } else {
        Written(node, *health, now);
        if (bj::value stored = r->Json(); stored.is_object()) node = std::move(stored.as_object());
      }
    }
    {
      std::lock_guard lock(mu_);
      health_[name] = *health;
    }
    if (written.ok()) return true;
    if (attempt == kHealthAttempts) {
      BLOG(kWarn) << "nodelifecycle: node " << name << ": " << written.error().str()
                  << "; skipped this pass, no pods will be evicted";
      return false;
    }
    std::this_thread::sleep_for(kHealthRetrySleep);
    Result<client::ApiResponse> got = api.Do("GET", url);
    if (!got.ok() || got->status != 200 || !got->Json().is_object()) {
      BLOG(kWarn) << "nodelifecycle: node " << name << ": "
                  << (got.ok() ? HttpError("GET", url, *got).str() : got.error().str())
                  << " (deleted?); skipped this pass";
      return false;
    }
    node = got->Json().as_object();
  }
}

void NodeLifecycleController::ProcessTaintBasedEviction(client::ApiClient& api,
                                                        const bj::object& node,
                                                        const std::string& observed) {
  const std::string name = NameOf(node);
  Status s = Ok();
  if (observed == "False" || observed == "Unknown") {
    bool not_ready = observed == "False";
    bj::object want = not_ready ? NotReadyNoExecute() : UnreachableNoExecute();
    bj::object opposite = not_ready ? UnreachableNoExecute() : NotReadyNoExecute();
    // Tainted the other way: swapped at once, as the two mirror Ready.
    if (HasTaint(node, opposite)) {
      s = SwapNodeTaints(api, node, {want}, {opposite});
    } else {
      MarkNodeForTainting(node, observed);
    }
  } else if (observed == "True") {
    s = MarkNodeAsReachable(api, node);
  }
  if (!s.ok()) {
    BLOG(kWarn) << "nodelifecycle: tainting node " << name << ": " << s.error().str()
                << " (retried next pass)";
  }
}

void NodeLifecycleController::MarkNodeForTainting(const bj::object& node,
                                                  const std::string& status) {
  const std::string name = NameOf(node);
  std::lock_guard lock(mu_);
  ZoneTaintQueue& q = QueueLocked(ZoneKey(node));
  // Known but untainted (the taint was removed by hand): queued again.
  if (!HasTaint(node, status == "False" ? NotReadyNoExecute() : UnreachableNoExecute())) {
    q.Remove(name);
  }
  if (q.Add(name)) queue().Add(kTaintKey);
}

Status NodeLifecycleController::MarkNodeAsReachable(client::ApiClient& api,
                                                    const bj::object& node) {
  BERTH_TRY(SwapNodeTaints(api, node, {}, {UnreachableNoExecute(), NotReadyNoExecute()}));
  std::lock_guard lock(mu_);
  QueueLocked(ZoneKey(node)).Remove(NameOf(node));
  return Ok();
}

ZoneTaintQueue& NodeLifecycleController::QueueLocked(const std::string& zone) {
  auto it = taint_queues_.find(zone);
  if (it == taint_queues_.end()) {
    it = taint_queues_.emplace(zone, ZoneTaintQueue(options_.eviction_rate)).first;
  }
  return it->second;
}

void NodeLifecycleController::AddZoneLocked(const std::string& zone) {
  if (zones_.contains(zone)) return;
  zones_[zone] = ZoneState::kInitial;
  taint_queues_.insert_or_assign(zone, ZoneTaintQueue(options_.eviction_rate));
}

void NodeLifecycleController::SetLimiterLocked(const std::string& zone, size_t zone_size,
                                               ZoneState state) {
  auto now = ZoneTaintQueue::Clock::now();
  switch (state) {
    case ZoneState::kNormal:
    case ZoneState::kFullDisruption:
      QueueLocked(zone).SwapLimiter(options_.eviction_rate, now);
      break;
    case ZoneState::kPartialDisruption:
      QueueLocked(zone).SwapLimiter(
          zone_size > static_cast<size_t>(options_.large_cluster_size_threshold)
              ? options_.secondary_eviction_rate
              : 0,
          now);
      break;
    case ZoneState::kInitial:
      break;
  }
}

void NodeLifecycleController::HandleDisruption(
    client::ApiClient& api, const std::map<std::string, std::vector<bool>>& zone_ready,
    const std::map<std::string, bj::object>& nodes) {
  std::map<std::string, ZoneState> new_states;
  bool all_are_down = true, all_were_down = true;
  {
    std::lock_guard lock(mu_);
    for (const auto& [zone, ready] : zone_ready) {
      ZoneState state = ComputeZoneState(ready, options_.unhealthy_zone_threshold).second;
      if (state != ZoneState::kFullDisruption) all_are_down = false;
      new_states[zone] = state;
      AddZoneLocked(zone);
    }
    for (auto it = zones_.begin(); it != zones_.end();) {
      if (!zone_ready.contains(it->first)) {
        it = zones_.erase(it);
        continue;
      }
      if (it->second != ZoneState::kFullDisruption) {
        all_were_down = false;
        break;
      }
      ++it;
    }
    if (all_are_down && all_were_down) return;
    if (!all_are_down) {
      if (all_were_down) {
        BLOG(kInfo) << "nodelifecycle: some nodes are ready again; leaving master disruption mode";
        // Every node gets a fresh grace period.
        WallTime now = WallClock::now();
        for (auto& [name, health] : health_) {
          health.probe = now;
          health.ready_transition = now;
        }
      }
      for (auto& [zone, state] : zones_) {
        auto next = new_states.find(zone);
        if (next == new_states.end() || (state == next->second && !all_were_down)) continue;
        SetLimiterLocked(zone, zone_ready.at(zone).size(), next->second);
        state = next->second;
      }
      return;
    }
  }
  // Every zone is down: more likely the control plane's trouble than the
  // nodes', so nothing is evicted.
  BLOG(kWarn) << "nodelifecycle: no node is ready; entering master disruption mode "
                 "(no NoExecute taints until one is)";
  for (const auto& [name, node] : nodes) {
    if (Status s = MarkNodeAsReachable(api, node); !s.ok()) {
      BLOG(kWarn) << "nodelifecycle: node " << name << ": " << s.error().str();
    }
  }
  std::lock_guard lock(mu_);
  auto now = ZoneTaintQueue::Clock::now();
  for (auto& [zone, state] : zones_) {
    QueueLocked(zone).SwapLimiter(0, now);
    state = ZoneState::kFullDisruption;
  }
}

Status NodeLifecycleController::DoNoExecuteTaintingPass(client::ApiClient& api) {
  std::vector<std::string> zones;
  {
    std::lock_guard lock(mu_);
    for (const auto& [zone, q] : taint_queues_)
      zones.push_back(zone);
  }
  bool pending = false;
  for (const std::string& zone : zones) {
    for (;;) {
      std::optional<std::string> name;
      {
        std::lock_guard lock(mu_);
        auto it = taint_queues_.find(zone);
        if (it == taint_queues_.end()) break;
        name = it->second.Next(ZoneTaintQueue::Clock::now());
        if (!name) {
          pending = pending || !it->second.Empty();
          break;
        }
      }
      auto [done, retry] = TaintNode(api, *name);
      std::lock_guard lock(mu_);
      if (auto it = taint_queues_.find(zone); it != taint_queues_.end()) {
        it->second.Processed(*name, done, retry, ZoneTaintQueue::Clock::now());
      }
    }
  }
  if (pending) queue().AddAfter(kTaintKey, kTaintPassPeriod);
  return Ok();
}

std::pair<bool, std::chrono::milliseconds> NodeLifecycleController::TaintNode(
    client::ApiClient& api, const std::string& name) {
  std::optional<bj::object> node = nodes_.Get(name);
  if (!node) return {true, {}};
  std::string ready = ConditionStatus(*node, "Ready");
  if (ready.empty()) return {false, std::chrono::milliseconds(50)};
  if (ready != "False" && ready != "Unknown") return {true, {}};  // ready again
  bool not_ready = ready == "False";
  bj::object want = not_ready ? NotReadyNoExecute() : UnreachableNoExecute();
  bj::object opposite = not_ready ? UnreachableNoExecute() : NotReadyNoExecute();
  if (Status s = SwapNodeTaints(api, *node, {want}, {opposite}); !s.ok()) {
    BLOG(kWarn) << "nodelifecycle: tainting node " << name << ": " << s.error().str();
    return {false, {}};
  }
  return {true, {}};
}

Status NodeLifecycleController::DoNoScheduleTaintingPass(client::ApiClient& api,
                                                         const std::string& name) {
  std::optional<bj::object> node = nodes_.Get(name);
  if (!node) return Ok();
  TaintChanges changes = ConditionTaintChanges(*node);
  if (changes.empty()) return Ok();
  Status s = SwapNodeTaints(api, *node, changes.add, changes.remove);
  if (!s.ok() && s.error().code() == Errc::kNotFound) return Ok();  // deleted meanwhile
  return s;
}

Status NodeLifecycleController::ProcessPod(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> pod = pods_.Get(key);
  if (!pod) return Ok();
  const std::string node = StringAt(*pod, {"spec", "nodeName"});
  std::optional<bj::object> ready;
  {
    std::lock_guard lock(mu_);
    auto it = health_.find(node);
    // Not looked at yet, or gone (the pod GC's then): the next monitor
    // pass sees to its pods.
    if (it == health_.end() || !nodes_.Get(node)) return Ok();
    ready = it->second.ready;
  }
  if (!ready || StringAt(*ready, {"status"}) == "True") return Ok();
  return MarkPodsNotReady(api, {*pod}, node);
}

Status NodeLifecycleController::MarkPodsNotReady(client::ApiClient& api,
                                                 const std::vector<bj::object>& pods,
                                                 const std::string& node) {
  std::optional<Error> first;
  size_t failed = 0;
  for (const bj::object& cached : pods) {
    if (StringAt(cached, {"spec", "nodeName"}) != node) continue;
    bj::object pod = cached;
    const bj::object* ready = FindCondition(pod, "Ready");
    if (ready == nullptr) continue;
    bj::object condition = *ready;
    condition["status"] = "False";
    if (!UpdatePodCondition(pod["status"].as_object(), std::move(condition), WallClock::now())) {
      continue;
    }
    const std::string ns = StringAt(pod, {"metadata", "namespace"}), name = NameOf(pod);
    const std::string url = "/api/v1/namespaces/" + ns + "/pods/" + name + "/status";
    Result<client::ApiResponse> r = api.Do("PUT", url, bj::serialize(pod));
    if (r.ok() && r->status == 404) continue;  // deleted meanwhile
    if (!r.ok() || r->status != 200) {
      ++failed;
      if (!first) first = r.ok() ? HttpError("PUT", url, *r) : r.error();
      continue;
    }
    recorder_.Record({"v1", "Pod", ns, name, StringAt(pod, {"metadata", "uid"})}, "Warning",
                     "NodeNotReady", "Node is not ready");
  }
  if (!first) return Ok();
  return Error(first->code(), std::to_string(failed) + " pod(s) of node " + node +
                                  " not marked not ready, first: " + first->str());
}

std::vector<bj::object> NodeLifecycleController::PodsOf(const std::string& node) const {
  std::vector<bj::object> out;
  for (const std::string& key : pods_by_node_.Keys(node))
    if (std::optional<bj::object> pod = pods_.Get(key)) out.push_back(std::move(*pod));
  return out;
}

void NodeLifecycleController::RecordNodeEvent(const std::string& name, const std::string& uid,
                                              const std::string& reason,
                                              const std::string& message) {
  recorder_.Record({"v1", "Node", "", name, uid}, "Normal", reason, message);
}

}  // namespace berth::controlplane::controllers
