#include "controlplane/controllers/garbage_collector.h"

#include <algorithm>
#include <exception>

#include "common/log.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/discovery.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;
using gc::Graph;
using gc::ObjectIdentity;
using gc::ObjectState;
using gc::OwnerReference;

// Upstream's DefaultIgnoredResources.
bool Ignored(const ApiResource& type) {
  return type.resource == "events" && (type.group.empty() || type.group == "events.k8s.io");
}

bool Monitorable(const ApiResource& type) {
  return type.preferred && type.Can("list") && type.Can("watch") && type.Can("delete") &&
         !Ignored(type);
}

// The unobserved backoff: 5 ms doubling, at most 60 s (as the queue's).
std::chrono::milliseconds UnobservedDelay(int looks) {
  auto delay = std::chrono::milliseconds(5) * (int64_t{1} << std::min(looks, 14));
  return std::min<std::chrono::milliseconds>(delay, std::chrono::seconds(60));
}

}  // namespace

GarbageCollector::GarbageCollector(client::ClientConfig config, SharedInformers& informers,
                                   int workers, std::chrono::seconds resync_period)
    : Controller("garbagecollector", config, workers),
      config_(std::move(config)),
      informers_(informers),
      workers_(workers),
      resync_period_(resync_period),
      recorder_(config_, "garbage-collector-controller") {}

GarbageCollector::~GarbageCollector() {
  Stop();
}

void GarbageCollector::Start() {
  discovery_ = std::thread([this] { DiscoveryLoop(); });
  Controller::Start();
  for (int i = 0; i < workers_; ++i)
    orphan_workers_.emplace_back([this] { OrphanWork(); });
}

void GarbageCollector::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (discovery_.joinable()) discovery_.join();
  attempt_to_orphan_.ShutDown();
  for (std::thread& t : orphan_workers_)
    if (t.joinable()) t.join();
  orphan_workers_.clear();
  Controller::Stop();
}

bool GarbageCollector::GraphHas(const std::string& uid) const {
  std::lock_guard lock(graph_mu_);
  return graph_.Find(uid) != nullptr;
}

bool GarbageCollector::CachesSynced() const {
  std::lock_guard lock(monitors_mu_);
  if (!discovered_) return false;
  return std::all_of(monitors_.begin(), monitors_.end(),
                     [](const auto& m) { return m.second->Synced(); });
}

// --- discovery and monitors ---

void GarbageCollector::DiscoveryLoop() {
  client::ApiClient api(config_);
  for (;;) {
    bool resynced = Resync(api);
    std::chrono::seconds wait = resynced ? resync_period_ : std::chrono::seconds(1);
    std::unique_lock lock(stop_mu_);
    if (stop_cv_.wait_for(lock, wait, [this] { return stopping_; })) return;
  }
}

bool GarbageCollector::Resync(client::ApiClient& api) {
  Result<Discovery> found = DiscoverResources(api, true);
  if (!found.ok()) {
    BLOG(kWarn) << "garbage collector: discovery: " << found.error().str();
    return false;
  }
  for (const std::string& failure : found->failed_groups)
    BLOG(kWarn) << "garbage collector: discovery: " << failure;
  // A partial discovery keeps what the failed groups were known to serve.
  mapper_.Update(found->resources, found->failed_groups.empty());
  for (const ApiResource& type : found->resources) {
    if (!Monitorable(type)) continue;
    std::string url = gc::ListUrl(type);
    {
      std::lock_guard lock(monitors_mu_);
      if (monitors_.contains(url)) continue;
    }
    const client::Informer& informer = informers_.Register(url, Handlers(type));
    std::lock_guard lock(monitors_mu_);
    monitors_[url] = &informer;
  }
  std::lock_guard lock(monitors_mu_);
  discovered_ = true;
  return true;
}

client::InformerHandlers GarbageCollector::Handlers(const ApiResource& type) {
  std::string api_version = gc::GroupVersion(type);
  std::string kind = type.kind;
  client::InformerHandlers h;
  h.added = [this, api_version, kind](const bj::object& obj) {
    Observe(Graph::Change::kAdded, ObjectState::Of(obj, api_version, kind), nullptr);
  };
  h.updated = [this, api_version, kind](const bj::object& old, const bj::object& now) {
    ObjectState before = ObjectState::Of(old, api_version, kind);
    Observe(Graph::Change::kUpdated, ObjectState::Of(now, api_version, kind), &before);
  };
  h.deleted = [this, api_version, kind](const bj::object& obj) {
    Observe(Graph::Change::kDeleted, ObjectState::Of(obj, api_version, kind), nullptr);
  };
  return h;
}

// --- the graph ---

void GarbageCollector::Observe(Graph::Change change, const ObjectState& now,
                               const ObjectState* old) {
  gc::GraphActions actions;
  {
    std::lock_guard lock(graph_mu_);
    actions = graph_.Observe(change, now, old);
  }
  Enqueue(actions);
}

void GarbageCollector::VirtualDelete(const ObjectIdentity& identity) {
  gc::GraphActions actions;
  {
    std::lock_guard lock(graph_mu_);
    actions = graph_.ObserveAbsent(identity);
  }
  Enqueue(actions);
}

void GarbageCollector::Enqueue(const gc::GraphActions& actions) {
  for (const std::string& uid : actions.attempt_to_delete)
    queue().Add(uid);
  for (const std::string& uid : actions.attempt_to_delete_later)
    queue().AddRateLimited(uid);
  for (const std::string& uid : actions.attempt_to_orphan)
    attempt_to_orphan_.Add(uid);
  for (const auto& [dependent, ref] : actions.invalid_namespace_refs) {
    ObjectIdentity owner{ref.api_version, ref.kind, ref.name, ref.uid, dependent.namespace_};
    recorder_.Record({dependent.api_version, dependent.kind, dependent.namespace_, dependent.name,
                      dependent.uid},
                     "Warning", "OwnerRefInvalidNamespace",
                     "ownerRef " + owner.str() + " does not exist in namespace \"" +
                         dependent.namespace_ + "\"");
  }
}

void GarbageCollector::RequeueUnobserved(const std::string& uid) {
  int looks = 0;
  {
    std::lock_guard lock(graph_mu_);
    looks = unobserved_retries_[uid]++;
  }
  queue().AddAfter(uid, UnobservedDelay(looks));
}

std::optional<GarbageCollector::Item> GarbageCollector::Snapshot(const std::string& uid) const {
  std::lock_guard lock(graph_mu_);
  const gc::Node* node = graph_.Find(uid);
  if (node == nullptr) return std::nullopt;
  Item item{*node, {}};
  item.node.dependents.clear();  // only what Dependents() says is used
  for (const gc::Node* dep : graph_.Dependents(uid))
    item.dependents.push_back({dep->identity, dep->deleting_dependents, dep->Blocks(uid)});
  return item;
}

// --- attemptToDelete ---

Status GarbageCollector::Sync(client::ApiClient& api, const std::string& key) {
  std::optional<Item> item = Snapshot(key);
  if (!item) {
    std::lock_guard lock(graph_mu_);
    unobserved_retries_.erase(key);
    return Ok();
  }
  gc::Operations ops(api, mapper_);
  Outcome outcome = BERTH_TRY_CTX(AttemptToDeleteItem(ops, *item), item->node.identity.str());
  bool unobserved = false;
  {
    std::lock_guard lock(graph_mu_);
    const gc::Node* now = graph_.Find(key);
    // Requeued until an informer shows it, or a virtual node for an
    // object made and deleted between two watches would stay for good.
    unobserved = outcome == Outcome::kDone && now != nullptr && !now->observed;
    if (!unobserved) unobserved_retries_.erase(key);
  }
  if (unobserved) RequeueUnobserved(key);
  return Ok();
}

Result<GarbageCollector::Outcome> GarbageCollector::AttemptToDeleteItem(gc::Operations& ops,
                                                                        const Item& item) {
  const gc::Node& node = item.node;
  // Being deleted is a one-way trip: its dependents are seen to when it
  // is gone.
  if (node.being_deleted && !node.deleting_dependents) return Outcome::kDone;
  std::optional<bj::object> latest = BERTH_TRY(ops.Get(node.identity));
  if (!latest || StringAt(*latest, {"metadata", "uid"}) != node.identity.uid) {
    VirtualDelete(node.identity);
    return Outcome::kVirtualDeleted;
  }
  if (node.deleting_dependents) return ProcessDeletingDependents(ops, item);

  std::vector<OwnerReference> owners = gc::OwnerReferencesOf(*latest);
  if (owners.empty()) return Outcome::kDone;
  std::vector<std::string> dangling;
  std::vector<std::string> waiting;
  bool solid = false;
  for (const OwnerReference& ref : owners) {
    switch (BERTH_TRY(Classify(ops, ref, node.identity))) {
      case Reference::kSolid:
        solid = true;
        break;
      case Reference::kDangling:
        dangling.push_back(ref.uid);
        break;
      case Reference::kWaiting:
        waiting.push_back(ref.uid);
        break;
      case Reference::kInvalid:
        BLOG(kInfo) << "garbage collector: " << node.identity.str()
                    << " is cluster-scoped but names the namespaced owner " << ref.kind << " "
                    << ref.name;
        return Outcome::kInvalidReference;
    }
  }
  std::string version = StringAt(*latest, {"metadata", "resourceVersion"});
  Status done = Ok();
  if (solid) {
    if (dangling.empty() && waiting.empty()) return Outcome::kDone;
    // References to owners waiting for their dependents go too, or those
    // owners would wait for this one for ever.
    dangling.insert(dangling.end(), waiting.begin(), waiting.end());
    done = ops.RemoveOwnerReferences(node.identity, dangling);
  } else if (!waiting.empty() && !item.dependents.empty()) {
    // Has dependents of its own: deleted in foreground, it waits for
    // them as its owner waits for it.
    for (const Dependent& dep : item.dependents) {
      if (!dep.deleting_dependents) continue;
      // A dependent that also waits for its dependents may close a cycle:
      // stop blocking the owners (a guess with false positives, as upstream's).
      BERTH_TRY(ops.UnblockOwnerReferences(node.identity, node.owners));
      break;
    }
    done = ops.Delete(node.identity, version, owners, "Foreground");
  } else {
    std::vector<std::string> finalizers = StringsAt(*latest, {"metadata", "finalizers"});
    auto has = [&](const char* f) {
      return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
    };
    // A policy the object was already being deleted with is kept.
    const char* policy = has(gc::kOrphanFinalizer)       ? "Orphan"
                         : has(gc::kForegroundFinalizer) ? "Foreground"
                                                         : "Background";
    done = ops.Delete(node.identity, version, owners, policy);
  }
  if (!done.ok() && done.error().code() == Errc::kNotFound) {
    VirtualDelete(node.identity);
    return Outcome::kVirtualDeleted;
  }
  if (!done.ok()) return std::move(done).error();
  return Outcome::kDone;
}

Result<GarbageCollector::Outcome> GarbageCollector::ProcessDeletingDependents(gc::Operations& ops,
                                                                              const Item& item) {
  bool blocked = false;
  for (const Dependent& dep : item.dependents) {
    if (!dep.blocks) continue;
    blocked = true;
    if (!dep.deleting_dependents) queue().Add(dep.identity.uid);
  }
  if (!blocked) BERTH_TRY(ops.RemoveFinalizer(item.node.identity, gc::kForegroundFinalizer));
  return Outcome::kDone;
}

Result<GarbageCollector::Reference> GarbageCollector::Classify(gc::Operations& ops,
                                                               const OwnerReference& ref,
                                                               const ObjectIdentity& item) {
  ObjectIdentity absent{ref.api_version, ref.kind, ref.name, ref.uid, ""};
  {
    std::lock_guard lock(graph_mu_);
    gc::AbsentOwnerCache& cache = graph_.absent_owners();
    if (cache.Has(absent)) return Reference::kDangling;
    absent.namespace_ = item.namespace_;
    if (cache.Has(absent)) return Reference::kDangling;
  }
  ApiResource type = BERTH_TRY(mapper_.Map(ref.api_version, ref.kind));
  if (!type.namespaced) absent.namespace_.clear();
  if (item.namespace_.empty() && type.namespaced) return Reference::kInvalid;
  std::optional<bj::object> owner = BERTH_TRY(ops.Get(type, item.namespace_, ref.name));
  if (!owner || StringAt(*owner, {"metadata", "uid"}) != ref.uid) {
    std::lock_guard lock(graph_mu_);
    graph_.absent_owners().Add(absent);
    return Reference::kDangling;
  }
  std::vector<std::string> finalizers = StringsAt(*owner, {"metadata", "finalizers"});
  bool foreground =
      std::find(finalizers.begin(), finalizers.end(), gc::kForegroundFinalizer) != finalizers.end();
  return BeingDeleted(*owner) && foreground ? Reference::kWaiting : Reference::kSolid;
}

// --- attemptToOrphan ---

void GarbageCollector::OrphanWork() {
  while (!CachesSynced()) {
    if (attempt_to_orphan_.ShuttingDown()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  client::ApiClient api(config_);
  for (;;) {
    std::optional<std::string> key = attempt_to_orphan_.Get();
    if (!key) return;
    Status done = Ok();
    try {
      done = AttemptToOrphan(api, *key);
    } catch (const std::exception& e) {  // Boost.JSON throws on a malformed object
      done = Error(Errc::kInternal, e.what());
    }
    if (done.ok()) {
      attempt_to_orphan_.Forget(*key);
    } else {
      BLOG(kWarn) << "garbage collector: orphan the dependents of " << *key << ": "
                  << done.error().str() << " (retry " << attempt_to_orphan_.NumRequeues(*key) + 1
                  << ")";
      attempt_to_orphan_.AddRateLimited(*key);
    }
    attempt_to_orphan_.Done(*key);
  }
}

Status GarbageCollector::AttemptToOrphan(client::ApiClient& api, const std::string& uid) {
  std::optional<Item> owner = Snapshot(uid);
  if (!owner) return Ok();
  gc::Operations ops(api, mapper_);
  std::vector<std::string> failures;
  for (const Dependent& dep : owner->dependents) {
    Status orphaned = ops.RemoveOwnerReferences(dep.identity, {uid});
    if (!orphaned.ok() && orphaned.error().code() != Errc::kNotFound) {
      failures.push_back(dep.identity.str() + ": " + orphaned.error().str());
    }
  }
  if (!failures.empty()) {
    return Error(Errc::kUnavailable, "orphan " + std::to_string(failures.size()) +
                                         " dependent(s) of " + owner->node.identity.str() +
                                         ", first: " + failures.front());
  }
  return ops.RemoveFinalizer(owner->node.identity, gc::kOrphanFinalizer);
}

}  // namespace berth::controlplane::controllers
