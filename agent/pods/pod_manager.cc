#include "agent/pods/pod_manager.h"

#include <malloc.h>

#include <set>

#include "agent/pods/pod_spec.h"
#include "agent/pods/runtime_pod.h"
#include "agent/pods/sandbox_config.h"
#include "agent/pods/static_pods.h"
#include "common/log.h"
#include "controlplane/client/api_util.h"
#include "volumes/volume_manager.h"

namespace berth::agent {

using controlplane::client::StringAt;
using controlplane::client::ValueAt;
using namespace std::chrono_literals;

namespace {

// How often mounted configMap/secret/downwardAPI/projected volumes are
// brought up to date with their sources.
constexpr auto kVolumeRefresh = 2s;
constexpr auto kRelistPeriod = 1s;
constexpr auto kWorkerTimerTick = 1s;

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_') {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

std::map<std::string, int64_t> Requests(const bj::object& pod) {
  // Upstream's effective request: max(sum of containers, each init
  // container) per resource.
  std::map<std::string, int64_t> sum, init_max;
  for (const bj::value& c : Containers(pod)) {
    if (!c.is_object()) continue;
    for (const char* r : {"cpu", "memory"})
      sum[r] += ResourceQuantity(c.get_object(), "requests", r).value_or(0);
  }
  for (const bj::value& c : InitContainers(pod)) {
    if (!c.is_object()) continue;
    for (const char* r : {"cpu", "memory"}) {
      int64_t v = ResourceQuantity(c.get_object(), "requests", r).value_or(0);
      if (IsSidecar(c.get_object())) {
        sum[r] += v;
      } else {
        init_max[r] = std::max(init_max[r], v);
      }
    }
  }
  for (auto& [r, v] : sum)
    v = std::max(v, init_max[r]);
  return sum;
}

}  // namespace

PodManager::PodManager(PodDeps deps) : deps_(std::move(deps)) {
  deps_.admit = [this](const bj::object& pod) { return Admit(pod); };
}

PodManager::~PodManager() {
  Stop();
}

Status PodManager::Start() {
  std::string collection =
      "/api/v1/pods?fieldSelector=" + UrlEncode("spec.nodeName=" + deps_.options->node_name);
  controlplane::client::InformerHandlers handlers;
  handlers.added = [this](const bj::object& pod) { Upsert(pod); };
  handlers.updated = [this](const bj::object&, const bj::object& pod) { Upsert(pod); };
  handlers.deleted = [this](const bj::object& pod) { Remove(pod); };
  // Static pods first: orphan cleanup must know their uids.
  SyncStaticPods();
  informer_ = std::make_unique<controlplane::client::Informer>(*deps_.api, collection, handlers);
  informer_->Start();
  runtime_thread_ = std::thread([this] { WatchRuntime(); });
  volume_thread_ = std::thread([this] { RefreshVolumes(); });
  timer_thread_ = std::thread([this] { WakeDueWorkers(); });
  return Ok();
}

void PodManager::Stop() {
  if (stopping_.exchange(true)) return;
  if (informer_) informer_->Stop();
  {
    std::lock_guard lock(events_mu_);
    if (events_call_) events_call_->TryCancel();
  }
  wait_cv_.notify_all();
  if (runtime_thread_.joinable()) runtime_thread_.join();
  if (volume_thread_.joinable()) volume_thread_.join();
  if (timer_thread_.joinable()) timer_thread_.join();
  std::map<std::string, std::unique_ptr<PodWorker>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  workers.clear();  // joins each
}

bool PodManager::Synced() const {
  return informer_ && informer_->Synced();
}

std::vector<bj::object> PodManager::Pods() const {
  std::lock_guard lock(mu_);
  std::vector<bj::object> out;
  for (const auto& [uid, w] : workers_)
    out.push_back(w->Pod());
  return out;
}

void PodManager::Upsert(const bj::object& pod) {
  Reap();
  if (MirrorChanged(pod, false)) return;
  std::string uid = IdOf(pod).uid;
  std::lock_guard lock(mu_);
  auto it = workers_.find(uid);
  if (it != workers_.end()) {
    it->second->Update(pod);
    return;
  }
  workers_[uid] = std::make_unique<PodWorker>(deps_, pod);
}

void PodManager::Remove(const bj::object& pod) {
  if (MirrorChanged(pod, true)) return;
  std::string uid = IdOf(pod).uid;
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(uid);
    if (it != workers_.end()) {
      it->second->Removed();
      return;
    }
  }
  // Deleted before we ever saw it running; the runtime may still have it.
  std::lock_guard lock(mu_);
  auto worker = std::make_unique<PodWorker>(deps_, pod);
  worker->Removed();
  workers_[uid] = std::move(worker);
}

void PodManager::Poke(const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(uid);
  if (it != workers_.end()) it->second->Poke();
}

void PodManager::ProbeChanged(const std::string& pod_uid, const std::string& container, bool kill,
                              const std::string& message) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(pod_uid);
  if (it == workers_.end()) return;
  if (kill) {
    it->second->KillForProbe(container, message);
  } else {
    it->second->Poke();
  }
}

void PodManager::Reap() {
  std::vector<std::unique_ptr<PodWorker>> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->second->Done()) {
        done.push_back(std::move(it->second));
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  done.clear();  // joins outside the lock
}

std::pair<std::string, std::string> PodManager::Admit(const bj::object& pod) const {
  std::string uid = IdOf(pod).uid;
  std::vector<bj::object> others;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, w] : workers_) {
      if (id == uid || w->Done()) continue;
      bj::object p = w->Pod();
      if (!IsTerminalPhase(Phase(p))) others.push_back(std::move(p));
    }
  }
  if (static_cast<int>(others.size()) + 1 > deps_.options->max_pods) {
    return {"OutOfpods",
            "Pod was rejected: Node didn't have enough resource: pods, requested: 1, "
            "used: " +
                std::to_string(others.size()) +
                ", capacity: " + std::to_string(deps_.options->max_pods)};
  }
  if (deps_.allocatable) {
    volumes::NodeAllocatable node = deps_.allocatable();
    std::map<std::string, int64_t> want = Requests(pod);
    std::map<std::string, int64_t> used;
    for (const bj::object& p : others)
      for (const auto& [r, v] : Requests(p))
        used[r] += v;
    std::map<std::string, int64_t> capacity{{"cpu", node.cpu_milli}, {"memory", node.memory}};
    for (const char* r : {"cpu", "memory"}) {
      if (capacity[r] > 0 && want[r] > 0 && used[r] + want[r] > capacity[r]) {
        return {std::string("Out") + r,
                std::string("Pod was rejected: Node didn't have enough resource: ") + r +
                    ", requested: " + std::to_string(want[r]) + ", used: " +
                    std::to_string(used[r]) + ", capacity: " + std::to_string(capacity[r])};
      }
    }
  }
  // Host ports already taken by another pod.
  auto host_ports = [](const bj::object& p) {
    std::set<std::string> out;
    for (const bj::value& c : Containers(p)) {
      const bj::value* ports = c.is_object() ? c.get_object().if_contains("ports") : nullptr;
      if (ports == nullptr || !ports->is_array()) continue;
      for (const bj::value& port : ports->get_array()) {
        const bj::value* hp =
            port.is_object() ? port.get_object().if_contains("hostPort") : nullptr;
        if (hp == nullptr || !hp->is_int64() || hp->get_int64() == 0) continue;
        std::string protocol = StringAt(port.get_object(), {"protocol"});
        out.insert((protocol.empty() ? "TCP" : protocol) + "/" + std::to_string(hp->get_int64()));
      }
    }
    return out;
  };
  std::set<std::string> mine = host_ports(pod);
  for (const bj::object& p : others) {
    for (const std::string& port : host_ports(p)) {
      if (mine.count(port) != 0) {
        return {"NodePorts",
                "Pod was rejected: node(s) didn't have free ports for the requested "
                "pod ports (" +
                    port + ")"};
      }
    }
  }
  return {"", ""};
}

void PodManager::WatchRuntime() {
  // Container events when the runtime has them; a relist otherwise.
  bool streaming = true;
  std::map<std::string, std::string> seen;
  bool cleaned = false;
  while (!stopping_) {
    if (!cleaned && Synced()) {
      CleanupOrphans();
      cleaned = true;
    }
    if (streaming) {
      auto ctx = std::make_unique<grpc::ClientContext>();
      {
        std::lock_guard lock(events_mu_);
        if (stopping_) break;
        events_call_ = std::move(ctx);
      }
      v1::GetEventsRequest req;
      auto reader = deps_.cri->runtime().GetContainerEvents(events_call_.get(), req);
      v1::ContainerEventResponse event;
      while (reader->Read(&event)) {
        auto it = event.pod_sandbox_status().labels().find(kPodUidLabel);
        if (it != event.pod_sandbox_status().labels().end()) Poke(it->second);
        Reap();
        if (!cleaned && Synced()) {
          CleanupOrphans();
          cleaned = true;
        }
      }
      grpc::Status s = reader->Finish();
      {
        std::lock_guard lock(events_mu_);
        events_call_.reset();
      }
      if (stopping_) break;
      if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        BLOG(kInfo) << "the runtime has no container events; relisting every second";
        streaming = false;
        continue;
      }
      // The stream ended (runtime restart): resync everything, then again.
      std::lock_guard lock(mu_);
      for (auto& [uid, w] : workers_)
        w->Poke();
    } else {
      Relist(seen);
      Reap();
    }
    std::unique_lock lock(wait_mu_);
    wait_cv_.wait_for(lock, kRelistPeriod, [&] { return stopping_.load(); });
  }
}

void PodManager::Relist(std::map<std::string, std::string>& seen) {
  v1::ListContainersRequest req;
  v1::ListContainersResponse resp;
  if (!deps_.cri->Call(&v1::RuntimeService::Stub::ListContainers, req, &resp, "ListContainers")
           .ok()) {
    return;
  }
  std::map<std::string, std::string> now;
  for (const v1::Container& c : resp.containers()) {
    auto uid = c.labels().find(kPodUidLabel);
    if (uid == c.labels().end()) continue;
    now[c.id()] = uid->second + "/" + std::to_string(c.state());
    auto before = seen.find(c.id());
    if (before == seen.end() || before->second != now[c.id()]) Poke(uid->second);
  }
  for (const auto& [id, was] : seen) {
    if (now.count(id) == 0) Poke(was.substr(0, was.find('/')));
  }
  seen = std::move(now);
}

void PodManager::CleanupOrphans() {
  std::set<std::string> known;
  for (const auto& [key, pod] : informer_->Snapshot())
    known.insert(IdOf(pod).uid);
  {
    std::lock_guard lock(mu_);
    for (const auto& [uid, pod] : static_pods_)
      known.insert(uid);
  }
  std::set<std::string> orphans;
  v1::ListPodSandboxRequest req;
  v1::ListPodSandboxResponse resp;
  if (deps_.cri->Call(&v1::RuntimeService::Stub::ListPodSandbox, req, &resp, "ListPodSandbox")
          .ok()) {
    for (const v1::PodSandbox& s : resp.items()) {
      auto uid = s.labels().find(kPodUidLabel);
      if (uid != s.labels().end() && known.count(uid->second) == 0) orphans.insert(uid->second);
    }
  }
  for (const std::string& uid : deps_.volumes->PodsOnDisk())
    if (known.count(uid) == 0) orphans.insert(uid);
  for (const std::string& uid : orphans) {
    BLOG(kInfo) << "pod " << uid << " is no longer in the API: removing what is left of it";
    bj::object pod{{"metadata", bj::object{{"uid", uid}}}};
    // A stand-in object: the worker kills and removes by uid.
    Remove(pod);
  }
}

void PodManager::WakeDueWorkers() {
  bool were_busy = false;
  while (!stopping_) {
    {
      std::unique_lock lock(wait_mu_);
      wait_cv_.wait_for(lock, kWorkerTimerTick, [&] { return stopping_.load(); });
    }
    if (stopping_) break;
    bool busy = false;
    {
      std::lock_guard lock(mu_);
      for (auto& [uid, w] : workers_) {
        w->WakeIfDue();
        busy = busy || w->Busy();
      }
    }
    if (were_busy && !busy) ReleaseFreeHeap();
    were_busy = busy;
  }
}

void PodManager::ReleaseFreeHeap() {
#ifdef __GLIBC__
  // Pod activity settled: glibc keeps what a burst of syncs freed inside
  // its heaps (after 100 pods at once, 8 of 14 MiB), returning only the
  // top; Go's scavenger gives kubelet's back. This hands the free pages
  // back once per busy spell (about a millisecond).
  ::malloc_trim(0);
#endif
}

void PodManager::RefreshVolumes() {
  while (!stopping_) {
    {
      std::unique_lock lock(wait_mu_);
      wait_cv_.wait_for(lock, kVolumeRefresh, [&] { return stopping_.load(); });
    }
    if (stopping_) break;
    SyncStaticPods();
    for (const bj::object& pod : Pods()) {
      if (BeingDeleted(pod) || IsTerminalPhase(Phase(pod))) continue;
      Status s = deps_.volumes->Refresh(pod);
      if (!s.ok()) {
        BLOG(kDebug) << "pod " << IdOf(pod).FullName() << ": volume refresh: " << s.error().str();
      }
    }
  }
}

}  // namespace berth::agent

namespace berth::agent {

void PodManager::SyncStaticPods() {
  if (deps_.options->static_pod_path.empty()) return;
  StaticPodScan scan = ScanStaticPods(deps_.options->static_pod_path, deps_.options->node_name);
  for (const std::string& e : scan.errors) {
    std::lock_guard lock(mu_);
    if (static_errors_.insert(e).second) BLOG(kWarn) << "static pod: " << e;
  }
  bool synced = Synced();
  std::vector<bj::object> to_mirror;
  std::vector<bj::object> to_unmirror;
  {
    std::lock_guard lock(mu_);
    // Gone from the directory (or changed: a new uid): stop the old one.
    for (auto it = static_pods_.begin(); it != static_pods_.end();) {
      if (scan.pods.count(it->first) != 0) {
        ++it;
        continue;
      }
      BLOG(kInfo) << "static pod " << IdOf(it->second).FullName() << " removed";
      if (auto w = workers_.find(it->first); w != workers_.end()) w->second->Removed();
      if (auto m = mirrors_.find(it->first); m != mirrors_.end()) to_unmirror.push_back(m->second);
      it = static_pods_.erase(it);
    }
    for (auto& [uid, pod] : scan.pods) {
      if (static_pods_.count(uid) != 0) continue;
      BLOG(kInfo) << "static pod " << IdOf(pod).FullName() << " added";
      static_pods_[uid] = pod;
      if (workers_.count(uid) == 0) workers_[uid] = std::make_unique<PodWorker>(deps_, pod);
    }
    if (synced) {
      for (const auto& [uid, pod] : static_pods_)
        if (mirrors_.count(uid) == 0) to_mirror.push_back(pod);
    }
  }
  for (const bj::object& m : to_unmirror)
    DeleteMirror(m);
  for (const bj::object& p : to_mirror)
    CreateMirror(p);
}

bool PodManager::MirrorChanged(const bj::object& pod, bool deleted) {
  if (!IsMirrorPod(pod)) return false;
  std::string hash = StringAt(pod, {"metadata", "annotations", kConfigMirrorAnnotation});
  bool orphan = false;
  std::optional<bj::object> recreate;
  {
    std::lock_guard lock(mu_);
    auto st = static_pods_.find(hash);
    if (deleted) {
      mirrors_.erase(hash);
      if (st != static_pods_.end()) recreate = st->second;
    } else if (st == static_pods_.end() || BeingDeleted(pod)) {
      // A mirror without its static pod, or one a user deleted: it goes
      // (a deleted one comes back fresh when its static pod is still here).
      orphan = true;
    } else {
      mirrors_[hash] = pod;
      // The worker keeps the static object, with the status the API has.
      bj::object with_status = st->second;
      if (const bj::value* status = pod.if_contains("status")) with_status["status"] = *status;
      if (auto w = workers_.find(hash); w != workers_.end()) w->second->Update(with_status);
    }
  }
  if (orphan) DeleteMirror(pod);
  if (recreate) CreateMirror(*recreate);
  return true;
}

void PodManager::CreateMirror(const bj::object& static_pod) {
  std::string node_uid;
  std::string node_target = "/api/v1/nodes/" + deps_.options->node_name;
  if (Result<controlplane::client::ApiResponse> node = deps_.api->Do("GET", node_target);
      node.ok() && node->status == 200) {
    bj::value v = node->Json();
    if (v.is_object()) node_uid = StringAt(v.get_object(), {"metadata", "uid"});
  }
  bj::object mirror = MirrorPodOf(static_pod, node_uid);
  PodId id = IdOf(static_pod);
  std::string target = "/api/v1/namespaces/" + id.namespace_ + "/pods";
  Result<controlplane::client::ApiResponse> r =
      deps_.api->Do("POST", target, bj::serialize(mirror));
  if (!r.ok()) {
    BLOG(kWarn) << "mirror pod " << id.FullName() << ": " << r.error().str();
  } else if (r->status != 201 && r->status != 409) {
    BLOG(kWarn) << "mirror pod " << id.FullName() << ": "
                << controlplane::client::StatusMessage(*r, "POST", target);
  }
}

void PodManager::DeleteMirror(const bj::object& mirror) {
  PodId id = IdOf(mirror);
  std::string target = "/api/v1/namespaces/" + id.namespace_ + "/pods/" + id.name;
  bj::object options{{"kind", "DeleteOptions"},
                     {"apiVersion", "v1"},
                     {"gracePeriodSeconds", 0},
                     {"preconditions", bj::object{{"uid", id.uid}}}};
  Result<controlplane::client::ApiResponse> r =
      deps_.api->Do("DELETE", target, bj::serialize(options));
  if (!r.ok()) BLOG(kWarn) << "delete mirror pod " << id.FullName() << ": " << r.error().str();
}

}  // namespace berth::agent
