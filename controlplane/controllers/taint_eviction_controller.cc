#include "controlplane/controllers/taint_eviction_controller.h"

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_updates.h"
#include "controlplane/controllers/work_queue.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kNodePrefix[] = "node:";
constexpr char kPodPrefix[] = "pod:";

std::string TaintId(const bj::object& t) {
  return StringAt(t, {"key"}) + '\0' + StringAt(t, {"value"}) + '\0' + StringAt(t, {"effect"});
}

std::string NoExecuteIds(const bj::object& node) {
  std::string out;
  for (const bj::object& t : NoExecuteTaints(node))
    out += TaintId(t) + '\n';
  return out;
}

bj::value Tolerations(const bj::object& pod) {
  const bj::value* spec = pod.if_contains("spec");
  const bj::value* t =
      spec != nullptr && spec->is_object() ? spec->as_object().if_contains("tolerations") : nullptr;
  return t != nullptr && t->is_array() ? *t : bj::value(bj::array());
}

client::ObjectRef PodRef(const std::string& key, const std::string& uid) {
  size_t slash = key.find('/');
  return {"v1", "Pod", key.substr(0, slash), key.substr(slash + 1), uid};
}

}  // namespace

TaintEvictionController::TaintEvictionController(client::ClientConfig config,
                                                 SharedInformers& informers, int workers)
    : Controller("taint-eviction-controller", config, workers),
      recorder_(std::move(config), "taint-eviction-controller"),
      nodes_(informers.Register("/api/v1/nodes", NodeHandlers())),
      pods_(informers.Register("/api/v1/pods", PodHandlers())) {}

TaintEvictionController::~TaintEvictionController() {
  Stop();
}

client::InformerHandlers TaintEvictionController::NodeHandlers() {
  client::InformerHandlers h;
  auto queue_node = [this](const bj::object& node) {
    queue().Add(kNodePrefix + StringAt(node, {"metadata", "name"}));
  };
  h.added = [queue_node](const bj::object& node) {
    if (!NoExecuteTaints(node).empty()) queue_node(node);
  };
  h.updated = [queue_node](const bj::object& old, const bj::object& node) {
    if (NoExecuteIds(old) != NoExecuteIds(node)) queue_node(node);
  };
  h.deleted = queue_node;
  return h;
}

client::InformerHandlers TaintEvictionController::PodHandlers() {
  client::InformerHandlers h;
  h.added = [this](const bj::object& pod) {
    pods_by_node_.Added(pod);
    queue().Add(kPodPrefix + client::ObjectKey(pod));
  };
  h.updated = [this](const bj::object& old, const bj::object& pod) {
    pods_by_node_.Updated(old, pod);
    if (Tolerations(old) != Tolerations(pod) ||
        StringAt(old, {"spec", "nodeName"}) != StringAt(pod, {"spec", "nodeName"})) {
      queue().Add(kPodPrefix + client::ObjectKey(pod));
    }
  };
  h.deleted = [this](const bj::object& pod) {
    pods_by_node_.Deleted(pod);
    queue().Add(kPodPrefix + client::ObjectKey(pod));
  };
  return h;
}

Status TaintEvictionController::Sync(client::ApiClient& api, const std::string& key) {
  if (key.starts_with(kNodePrefix)) {
    SyncNode(key.substr(sizeof kNodePrefix - 1));
    return Ok();
  }
  if (key.starts_with(kPodPrefix)) return SyncPod(api, key.substr(sizeof kPodPrefix - 1));
  return Ok();
}

void TaintEvictionController::SyncNode(const std::string& name) {
  std::optional<bj::object> node = nodes_.Get(name);
  if (node) {
    NoExecuteTaintsSince(*node);  // notes when new taints were first seen
  } else {
    std::lock_guard lock(mu_);
    first_seen_.erase(name);
  }
  for (const std::string& pod : pods_by_node_.Keys(name))
    queue().Add(kPodPrefix + pod);
}

std::vector<TaintSince> TaintEvictionController::NoExecuteTaintsSince(const bj::object& node) {
  WallTime now = WallClock::now();
  std::vector<TaintSince> out;
  std::lock_guard lock(mu_);
  std::map<std::string, WallTime>& seen = first_seen_[StringAt(node, {"metadata", "name"})];
  std::map<std::string, WallTime> still;
  for (const bj::object& t : NoExecuteTaints(node)) {
    std::string id = TaintId(t);
    auto it = seen.find(id);
    WallTime first = it != seen.end() ? it->second : now;
    still[id] = first;
    out.push_back({t, ParseApiTime(StringAt(t, {"timeAdded"})).value_or(first)});
  }
  seen = std::move(still);
  return out;
}

Status TaintEvictionController::SyncPod(client::ApiClient& api, const std::string& key) {
  std::optional<bj::object> pod = pods_.Get(key);
  if (!pod) {
    Cancel(key, "");
    return Ok();
  }
  const std::string uid = StringAt(*pod, {"metadata", "uid"});
  if (BeingDeleted(*pod)) {  // on its way out already
    std::lock_guard lock(mu_);
    pending_.erase(key);
    return Ok();
  }
  std::optional<bj::object> node;
  if (std::string name = StringAt(*pod, {"spec", "nodeName"}); !name.empty()) {
    node = nodes_.Get(name);
  }
  std::vector<TaintSince> taints;
  if (node) taints = NoExecuteTaintsSince(*node);
  WallTime now = WallClock::now();
  std::optional<WallTime> when =
      taints.empty() ? std::nullopt : EvictionTime(taints, Tolerations(*pod).as_array(), now);
  if (!when) {
    Cancel(key, uid);
    return Ok();
  }
  if (*when > now) {
    {
      std::lock_guard lock(mu_);
      pending_[key] = *when;
    }
    queue().AddAfter(kPodPrefix + key,
                     std::chrono::duration_cast<WorkQueue::Clock::duration>(*when - now));
    return Ok();
  }
  return Evict(api, key, *pod);
}

void TaintEvictionController::Cancel(const std::string& key, const std::string& uid) {
  {
    std::lock_guard lock(mu_);
    if (pending_.erase(key) == 0) return;
  }
  recorder_.Record(PodRef(key, uid), "Normal", "TaintManagerEviction",
                   "Cancelling deletion of Pod " + key);
}

Status TaintEvictionController::Evict(client::ApiClient& api, const std::string& key,
                                      const bj::object& pod) {
  const std::string ns = StringAt(pod, {"metadata", "namespace"});
  const std::string name = StringAt(pod, {"metadata", "name"});
  recorder_.Record(PodRef(key, StringAt(pod, {"metadata", "uid"})), "Normal",
                   "TaintManagerEviction", "Marking for deletion Pod " + key);
  bj::object condition{{"type", "DisruptionTarget"},
                       {"status", "True"},
                       {"reason", "DeletionByTaintManager"},
                       {"message", "Taint manager: deleting due to NoExecute taint"}};
  const bj::value* cached = pod.if_contains("status");
  bj::object status = cached != nullptr && cached->is_object() ? cached->as_object() : bj::object();
  if (UpdatePodCondition(status, condition, WallClock::now())) {
    // Conditions merge by type: the others are sent unchanged.
    bj::object patch{{"conditions", status["conditions"]}};
    Status patched = PatchPodStatus(api, ns, name, patch);
    if (!patched.ok() && patched.error().code() == Errc::kNotFound) return Ok();
    BERTH_TRY(std::move(patched));
  }
  BERTH_TRY(DeletePod(api, ns, name));
  std::lock_guard lock(mu_);
  pending_.erase(key);
  return Ok();
}

}  // namespace berth::controlplane::controllers
