#include "controlplane/scheduler/scheduler.h"

#include "common/log.h"
#include "common/time.h"
#include "controlplane/scheduler/plugins.h"

namespace berth::controlplane::scheduler {
namespace {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;

const bj::object& Field(const bj::object& o, std::string_view key) {
  static const bj::object kEmpty;
  const bj::value* v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : kEmpty;
}

std::string Str(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

bool Terminal(const bj::object& pod) {
  std::string phase = Str(Field(pod, "status"), "phase");
  return phase == "Succeeded" || phase == "Failed";
}

// The message of the pod's PodScheduled=False condition, if it has one.
std::string UnschedulableMessage(const bj::object& pod) {
  const bj::value* conds = Field(pod, "status").if_contains("conditions");
  if (!conds || !conds->is_array()) return "";
  for (const bj::value& c : conds->as_array()) {
    if (!c.is_object()) continue;
    const bj::object& o = c.as_object();
    if (Str(o, "type") == "PodScheduled" && Str(o, "status") == "False") return Str(o, "message");
  }
  return "";
}

}  // namespace

Scheduler::Scheduler(client::ClientConfig config, SchedulerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      api_(config_),
      events_(config_, "default-scheduler"),
      queue_(options_.queue) {}

Scheduler::~Scheduler() {
  Stop();
}

void Scheduler::Start() {
  if (started_.exchange(true)) return;
  using client::InformerHandlers;
  namespaces_informer_ = std::make_unique<client::Informer>(
      api_, "/api/v1/namespaces",
      InformerHandlers{[this](const bj::object& o) { OnNamespace(o); },
                       [this](const bj::object&, const bj::object& o) { OnNamespace(o); },
                       [this](const bj::object& o) {
                         std::lock_guard lock(mu_);
                         view_.namespace_labels.erase(Str(Field(o, "metadata"), "name"));
                       }});
  nodes_informer_ = std::make_unique<client::Informer>(
      api_, "/api/v1/nodes",
      InformerHandlers{[this](const bj::object& o) { OnNode(o); },
                       [this](const bj::object&, const bj::object& o) { OnNode(o); },
                       [this](const bj::object& o) { OnNodeDeleted(o); }});
  pods_informer_ = std::make_unique<client::Informer>(
      api_, "/api/v1/pods",
      InformerHandlers{[this](const bj::object& o) { OnPod(o); },
                       [this](const bj::object&, const bj::object& o) { OnPod(o); },
                       [this](const bj::object& o) { OnPodDeleted(o); }});
  namespaces_informer_->Start();
  nodes_informer_->Start();
  pods_informer_->Start();
  schedule_thread_ = std::thread([this] { ScheduleLoop(); });
  for (int i = 0; i < options_.binders; ++i)
    binder_threads_.emplace_back([this, i] { BindLoop(i); });
}

void Scheduler::Stop() {
  if (!started_.exchange(false)) return;
  for (auto* informer : {&pods_informer_, &nodes_informer_, &namespaces_informer_}) {
    if (*informer) (*informer)->Stop();
  }
  queue_.Close();
  {
    // Binders still drain what is queued; they end once it is empty.
    std::lock_guard lock(bind_mu_);
    stopping_ = true;
  }
  bind_cv_.notify_all();
  schedule_thread_.join();
  for (std::thread& t : binder_threads_)
    t.join();
  binder_threads_.clear();
  events_.Flush();
}

bool Scheduler::Synced() const {
  return namespaces_informer_ && namespaces_informer_->Synced() && nodes_informer_->Synced() &&
         pods_informer_->Synced();
}

Scheduler::Stats Scheduler::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void Scheduler::PlacePod(const std::string& key, std::shared_ptr<const PodInfo> info,
                         const std::string& node, bool assumed) {
  UnplacePod(key);
  if (auto it = nodes_.find(node); it != nodes_.end()) it->second.AddPod(info);
  placed_[key] = Placed{node, std::move(info), assumed};
}

void Scheduler::UnplacePod(const std::string& key) {
  auto it = placed_.find(key);
  if (it == placed_.end()) return;
  if (auto n = nodes_.find(it->second.node); n != nodes_.end()) n->second.RemovePod(key);
  placed_.erase(it);
}

void Scheduler::RebuildNodeView() {
  view_.nodes.clear();
  view_.nodes.reserve(nodes_.size());
  for (const auto& [name, node] : nodes_)
    view_.nodes.push_back(&node);
}

void Scheduler::OnNamespace(const bj::object& ns) {
  const bj::object& meta = Field(ns, "metadata");
  Labels labels;
  for (const auto& [k, v] : Field(meta, "labels")) {
    if (v.is_string()) labels[k] = std::string(v.as_string());
  }
  std::lock_guard lock(mu_);
  view_.namespace_labels[Str(meta, "name")] = std::move(labels);
}

void Scheduler::OnNode(const bj::object& node) {
  Result<NodeInfo> parsed = ParseNode(node);
  if (!parsed.ok()) {
    BLOG(kWarn) << "scheduler: node ignored: " << parsed.error().str();
    return;
  }
  std::lock_guard lock(mu_);
  auto it = nodes_.find(parsed->name);
  if (it != nodes_.end()) {
    for (const auto& [key, pod] : it->second.pods)
      parsed->AddPod(pod);
    it->second = std::move(*parsed);
  } else {
    std::string name = parsed->name;
    NodeInfo& fresh = nodes_.emplace(name, std::move(*parsed)).first->second;
    for (const auto& [key, placed] : placed_) {
      if (placed.node == name) fresh.AddPod(placed.info);
    }
    RebuildNodeView();
  }
  queue_.ClusterChanged();
}

void Scheduler::OnNodeDeleted(const bj::object& node) {
  std::lock_guard lock(mu_);
  nodes_.erase(Str(Field(node, "metadata"), "name"));
  RebuildNodeView();
}

void Scheduler::OnPod(const bj::object& pod) {
  std::string key = client::ObjectKey(pod);
  const bj::object& spec = Field(pod, "spec");
  std::string node = Str(spec, "nodeName");
  std::unique_lock lock(mu_);
  if (Terminal(pod)) {
    // A finished pod holds nothing on its node.
    bool freed = placed_.contains(key);
    UnplacePod(key);
    pending_.erase(key);
    lock.unlock();
    queue_.Delete(key);
    if (freed) queue_.ClusterChanged();
    return;
  }
  if (!node.empty()) {
    Result<PodInfo> info = ParsePod(pod);
    if (!info.ok()) {
      BLOG(kWarn) << "scheduler: pod " << key << " on " << node
                  << " not counted: " << info.error().str();
    } else {
      PlacePod(key, std::make_shared<const PodInfo>(std::move(*info)), node, false);
    }
    pending_.erase(key);
    lock.unlock();
    queue_.Delete(key);
    return;
  }
  auto placed = placed_.find(key);
  bool binding_in_flight = placed != placed_.end() && placed->second.assumed;
  bool ours = options_.scheduler_names.contains(
      Str(spec, "schedulerName").empty() ? "default-scheduler" : Str(spec, "schedulerName"));
  if (!ours || Field(pod, "metadata").contains("deletionTimestamp")) {
    pending_.erase(key);
    lock.unlock();
    queue_.Delete(key);
    return;
  }
  pending_[key] = pod;
  lock.unlock();
  if (!binding_in_flight) queue_.Add(key);
}

void Scheduler::OnPodDeleted(const bj::object& pod) {
  std::string key = client::ObjectKey(pod);
  {
    std::lock_guard lock(mu_);
    UnplacePod(key);
    pending_.erase(key);
  }
  queue_.Delete(key);
  queue_.ClusterChanged();
}

void Scheduler::ScheduleLoop() {
  for (;;) {
    // Deciding far ahead of the binders would only make every pod wait in
    // their queue, and decide on a cache further from the server's truth.
    {
      std::unique_lock lock(bind_mu_);
      bind_cv_.wait(lock, [&] {
        return stopping_ || bindings_.size() < 2 * static_cast<size_t>(options_.binders);
      });
    }
    std::optional<std::string> key = queue_.Pop();
    if (!key) return;
    ScheduleOne(*key);
  }
}

void Scheduler::ScheduleOne(const std::string& key) {
  Clock::time_point started = Clock::now();
  std::unique_lock lock(mu_);
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    lock.unlock();
    queue_.Delete(key);
    return;
  }
  const bj::object pod = it->second;
  Result<PodInfo> parsed = ParsePod(pod);
  if (!parsed.ok()) {
    lock.unlock();
    RecordUnschedulable(pod, parsed.error().str());
    queue_.Unschedulable(key);
    return;
  }
  auto info = std::make_shared<const PodInfo>(std::move(*parsed));
  std::vector<const NodeInfo*> feasible;
  std::map<std::string, int> reasons;
  for (const NodeInfo* node : view_.nodes) {
    std::vector<std::string> why = FilterNode(*info, *node, view_);
    if (why.empty()) {
      feasible.push_back(node);
    } else {
      for (std::string& r : why)
        ++reasons[std::move(r)];
    }
  }
  if (feasible.empty()) {
    std::string message = FailureMessage(view_.nodes.size(), reasons);
    lock.unlock();
    {
      std::lock_guard s(stats_mu_);
      ++stats_.unschedulable;
    }
    RecordUnschedulable(pod, message);
    queue_.Unschedulable(key);
    return;
  }
  const NodeInfo* chosen = feasible.front();
  if (feasible.size() > 1) {
    std::vector<int64_t> scores = ScoreNodes(*info, feasible, view_);
    int64_t best = scores[0];
    int ties = 1;
    // Reservoir sampling: each of the best nodes is equally likely.
    for (size_t i = 1; i < feasible.size(); ++i) {
      if (scores[i] > best) {
        best = scores[i];
        chosen = feasible[i];
        ties = 1;
      } else if (scores[i] == best && std::uniform_int_distribution<int>(0, ties++)(random_) == 0) {
        chosen = feasible[i];
      }
    }
  }
  std::string node = chosen->name;
  PlacePod(key, info, node, true);
  lock.unlock();
  queue_.Done(key);
  {
    std::lock_guard b(bind_mu_);
    bindings_.push_back(Binding{key, info->namespace_, info->name, info->uid, node,
                                client::ObjectRef::Of(pod), started});
  }
  bind_cv_.notify_all();
}

void Scheduler::BindLoop(int /*index*/) {
  client::ApiClient api(config_);  // a connection per binder
  std::unique_lock lock(bind_mu_);
  for (;;) {
    bind_cv_.wait(lock, [&] { return stopping_ || !bindings_.empty(); });
    if (bindings_.empty()) return;
    Binding b = std::move(bindings_.front());
    bindings_.pop_front();
    lock.unlock();
    bind_cv_.notify_all();  // the scheduling loop may be waiting for room
    Bind(api, b);
    lock.lock();
  }
}

void Scheduler::Bind(client::ApiClient& api, const Binding& b) {
  bj::object binding{
      {"apiVersion", "v1"},
      {"kind", "Binding"},
      {"metadata", bj::object{{"name", b.name}, {"namespace", b.namespace_}, {"uid", b.uid}}},
      {"target", bj::object{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", b.node}}}};
  Result<client::ApiResponse> r =
      api.Do("POST", "/api/v1/namespaces/" + b.namespace_ + "/pods/" + b.name + "/binding",
             bj::serialize(binding));
  if (r.ok() && r->status == 201) {
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - b.started).count();
    {
      std::lock_guard s(stats_mu_);
      ++stats_.bound;
      stats_.latencies_ms.push_back(ms);
    }
    events_.Record(b.ref, "Normal", "Scheduled",
                   "Successfully assigned " + b.namespace_ + "/" + b.name + " to " + b.node);
    return;
  }
  std::string why = r.ok() ? std::to_string(r->status) + " " + r->body : r.error().str();
  BLOG(kWarn) << "scheduler: binding " << b.key << " to " << b.node << ": " << why;
  {
    std::lock_guard lock(mu_);
    auto it = placed_.find(b.key);
    if (it != placed_.end() && it->second.assumed) UnplacePod(b.key);
  }
  {
    std::lock_guard s(stats_mu_);
    ++stats_.binding_errors;
  }
  events_.Record(b.ref, "Warning", "FailedScheduling", "Binding rejected: " + why);
  queue_.Backoff(b.key);
}

void Scheduler::RecordUnschedulable(const bj::object& pod, const std::string& message) {
  events_.Record(client::ObjectRef::Of(pod), "Warning", "FailedScheduling", message);
  if (UnschedulableMessage(pod) == message) return;  // already says so
  const bj::object& meta = Field(pod, "metadata");
  bj::object patch{
      {"status",
       bj::object{{"conditions", bj::array{bj::object{{"type", "PodScheduled"},
                                                      {"status", "False"},
                                                      {"reason", "Unschedulable"},
                                                      {"message", message},
                                                      {"lastTransitionTime",
                                                       FormatRfc3339(WallClockNow().tv_sec)}}}}}}};
  std::string target =
      "/api/v1/namespaces/" + Str(meta, "namespace") + "/pods/" + Str(meta, "name") + "/status";
  Result<client::ApiResponse> r =
      api_.Do("PATCH", target, bj::serialize(patch), "application/strategic-merge-patch+json");
  if (!r.ok() || (r->status != 200 && r->status != 404)) {
    BLOG(kWarn) << "scheduler: PodScheduled condition of " << Str(meta, "namespace") << "/"
                << Str(meta, "name") << ": " << (r.ok() ? r->body : r.error().str());
  }
}

}  // namespace berth::controlplane::scheduler
