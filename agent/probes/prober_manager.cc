#include "agent/probes/prober_manager.h"

#include <array>

#include "agent/container/object_fields.h"
#include "agent/probes/pod_ref.h"
#include "common/log.h"
#include "controlplane/client/event_recorder.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;

constexpr int kMaxProbeTries = 3;
constexpr std::array<ProbeKind, 3> kKinds = {ProbeKind::kStartup, ProbeKind::kLiveness,
                                             ProbeKind::kReadiness};

const char* SpecKey(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kStartup:
      return "startupProbe";
    case ProbeKind::kLiveness:
      return "livenessProbe";
    case ProbeKind::kReadiness:
      return "readinessProbe";
  }
  return "";
}

// What a probe reads before its first thresholded result.
ProbeResult InitialResult(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kStartup:
      return ProbeResult::kUnknown;
    case ProbeKind::kLiveness:
      return ProbeResult::kSuccess;
    case ProbeKind::kReadiness:
      return ProbeResult::kFailure;
  }
  return ProbeResult::kUnknown;
}

int64_t PositiveOr(const bj::object& spec, std::string_view key, int64_t fallback) {
  int64_t v = fields::IntAt(&spec, key).value_or(fallback);
  return v > 0 ? v : fallback;
}

std::string Lowercase(const char* s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

struct ProberManager::Probe {
  ProbeKind kind;
  bj::object spec;
  Clock::duration period, initial_delay;
  int64_t success_threshold, failure_threshold;
  ProbeResult result;                        // thresholded
  ProbeResult last = ProbeResult::kUnknown;  // the last run's result
  int64_t run = 0;                           // how many runs in a row gave `last`
  bool on_hold = false;
  uint64_t generation = 0;
};

// A tracked container. Everything but the probes' mutable state is fixed
// once made, so a runner reads it without the lock.
struct ProberManager::Container {
  std::string pod_uid, name, id, pod_ip;
  bj::object pod_meta;  // {"metadata": ...} of the pod
  bj::object spec;      // the container's spec
  controlplane::client::ObjectRef ref;
  Clock::time_point started;
  bool terminating = false;
  bool removed = false;
  std::array<std::unique_ptr<Probe>, 3> probes;

  Probe* Get(ProbeKind kind) const { return probes[static_cast<size_t>(kind)].get(); }
};

struct ProberManager::Notice {
  struct Event {
    std::string reason, message;
  };
  std::vector<Event> events;
  std::optional<Update> update;
  controlplane::client::ObjectRef ref;
};

ProberManager::ProberManager(CriClient& cri, std::function<void(const Update&)> on_change,
                             controlplane::client::EventRecorder* events, ProberOptions options)
    : cri_(cri), on_change_(std::move(on_change)), events_(events), options_(options) {
  if (options_.runners == 0) options_.runners = 1;
  for (size_t i = 0; i < options_.runners; ++i)
    threads_.emplace_back([this] { RunLoop(); });
}

ProberManager::~ProberManager() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_)
    t.join();
}

void ProberManager::AddContainer(const bj::object& pod, const std::string& container_name,
                                 const std::string& container_id, std::string pod_ip,
                                 std::chrono::system_clock::time_point started_at) {
  bool init = false;
  const bj::object* spec = fields::FindContainer(pod, container_name, &init);
  if (spec == nullptr) {
    BLOG(kWarn) << "prober: container " << container_name << " is not in the pod's spec";
    return;
  }
  const bj::object* meta = fields::ObjectAt(&pod, "metadata");
  auto c = std::make_shared<Container>();
  c->pod_uid = fields::StringAt(meta, "uid");
  c->name = container_name;
  c->id = container_id;
  c->pod_ip = std::move(pod_ip);
  c->pod_meta = bj::object{{"metadata", meta ? *meta : bj::object()}};
  c->spec = *spec;
  c->ref = PodObjectRef(pod, ContainerFieldPath(container_name, init));
  c->started = Clock::now() - (std::chrono::system_clock::now() - started_at);
  for (ProbeKind kind : kKinds) {
    const bj::object* probe = fields::ObjectAt(spec, SpecKey(kind));
    if (probe == nullptr) continue;
    auto p = std::make_unique<Probe>();
    p->kind = kind;
    p->spec = *probe;
    p->period = PositiveOr(*probe, "periodSeconds", 10) * options_.second_for_test;
    int64_t delay = fields::IntAt(probe, "initialDelaySeconds").value_or(0);
    p->initial_delay = std::max<int64_t>(delay, 0) * options_.second_for_test;
    p->success_threshold = PositiveOr(*probe, "successThreshold", 1);
    p->failure_threshold = PositiveOr(*probe, "failureThreshold", 3);
    p->result = InitialResult(kind);
    c->probes[static_cast<size_t>(kind)] = std::move(p);
  }

  std::lock_guard lock(mu_);
  auto key = std::make_pair(c->pod_uid, c->name);
  if (auto it = containers_.find(key); it != containers_.end()) {
    if (it->second->id == container_id) return;
    RemoveLocked(it);
  }
  containers_[key] = c;
  for (ProbeKind kind : kKinds) {
    if (Probe* p = c->Get(kind)) ScheduleFirstRunLocked(c, *p);
  }
}

void ProberManager::RemoveLocked(
    std::map<std::pair<std::string, std::string>, std::shared_ptr<Container>>::iterator it) {
  it->second->removed = true;  // queued and running runs lapse
  containers_.erase(it);
}

void ProberManager::RemoveContainer(const std::string& pod_uid, const std::string& container_name) {
  std::lock_guard lock(mu_);
  if (auto it = containers_.find({pod_uid, container_name}); it != containers_.end()) {
    RemoveLocked(it);
  }
}

void ProberManager::RemovePod(const std::string& pod_uid) {
  std::lock_guard lock(mu_);
  auto it = containers_.lower_bound({pod_uid, ""});
  while (it != containers_.end() && it->first.first == pod_uid)
    RemoveLocked(it++);
}

void ProberManager::PodTerminating(const std::string& pod_uid) {
  std::vector<Notice> notices;
  {
    std::lock_guard lock(mu_);
    for (auto it = containers_.lower_bound({pod_uid, ""});
         it != containers_.end() && it->first.first == pod_uid; ++it) {
      Container& c = *it->second;
      c.terminating = true;
      for (ProbeKind kind : {ProbeKind::kLiveness, ProbeKind::kStartup}) {
        Probe* p = c.Get(kind);
        if (p == nullptr) continue;
        p->on_hold = true;
        ++p->generation;
        if (p->result != ProbeResult::kSuccess) {
          p->result = ProbeResult::kSuccess;
          Notice n;
          n.update = Update{c.pod_uid, c.name, c.id, kind, ProbeResult::kSuccess, ""};
          notices.push_back(std::move(n));
        }
      }
    }
  }
  for (const Notice& n : notices)
    Emit(n);
}

std::optional<ProbeResult> ProberManager::Result(const std::string& pod_uid,
                                                 const std::string& container_name,
                                                 ProbeKind kind) const {
  std::lock_guard lock(mu_);
  const Container* c = FindLocked(pod_uid, container_name);
  if (c == nullptr || c->Get(kind) == nullptr) return std::nullopt;
  return c->Get(kind)->result;
}

bool ProberManager::Started(const std::string& pod_uid, const std::string& container_name) const {
  std::lock_guard lock(mu_);
  const Container* c = FindLocked(pod_uid, container_name);
  return c != nullptr && StartedLocked(*c);
}

bool ProberManager::Ready(const std::string& pod_uid, const std::string& container_name) const {
  std::lock_guard lock(mu_);
  const Container* c = FindLocked(pod_uid, container_name);
  if (c == nullptr || !StartedLocked(*c)) return false;
  const Probe* readiness = c->Get(ProbeKind::kReadiness);
  return readiness == nullptr || readiness->result == ProbeResult::kSuccess;
}

const ProberManager::Container* ProberManager::FindLocked(const std::string& pod_uid,
                                                          const std::string& name) const {
  auto it = containers_.find({pod_uid, name});
  return it == containers_.end() ? nullptr : it->second.get();
}

bool ProberManager::StartedLocked(const Container& c) const {
  const Probe* startup = c.Get(ProbeKind::kStartup);
  return startup == nullptr || startup->result == ProbeResult::kSuccess;
}

void ProberManager::ScheduleLocked(const std::shared_ptr<Container>& c, Probe& p,
                                   Clock::time_point at) {
  queue_.push(Due{at, c, p.kind, ++p.generation});
  cv_.notify_one();
}

void ProberManager::ScheduleFirstRunLocked(const std::shared_ptr<Container>& c, Probe& p) {
  // Liveness and readiness wait for startup; its success schedules them.
  if (p.kind != ProbeKind::kStartup && !StartedLocked(*c)) return;
  ScheduleLocked(c, p, std::max(Clock::now(), c->started + p.initial_delay));
}

void ProberManager::RunLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    Due due = queue_.top();
    if (due.at > Clock::now()) {
      cv_.wait_until(lock, due.at);
      continue;
    }
    queue_.pop();
    RunDue(lock, due);
  }
}

void ProberManager::RunDue(std::unique_lock<std::mutex>& lock, const Due& due) {
  Container& c = *due.container;
  Probe* p = c.Get(due.kind);
  if (c.removed || p == nullptr || p->generation != due.generation || p->on_hold) return;
  if (c.terminating && due.kind != ProbeKind::kReadiness) return;

  ProbeTarget target;
  target.pod_ip = c.pod_ip;
  target.container_id = c.id;
  target.container = &c.spec;
  target.cri = &cri_;
  target.pod = &c.pod_meta;
  lock.unlock();
  // A run that could not be made is retried at once, as upstream's
  // runProbeWithRetries does (3 tries).
  ProbeOutcome outcome;
  for (int attempt = 0; attempt < kMaxProbeTries; ++attempt) {
    outcome = RunProbe(p->spec, target);
    if (outcome.result != ProbeResult::kUnknown) break;
  }
  lock.lock();
  if (c.removed || p->generation != due.generation) return;
  Notice notice = Apply(c, *p, outcome);

  // The next run is queued only after this one's notice is out, so the
  // notices of one probe keep their order.
  lock.unlock();
  Emit(notice);
  lock.lock();
  if (c.removed || p->generation != due.generation || p->on_hold) return;
  if (c.terminating && due.kind != ProbeKind::kReadiness) return;
  // As a Go ticker: the next tick, or at once when ticks were missed.
  Clock::time_point next = std::max(due.at + p->period, Clock::now());
  queue_.push(Due{next, due.container, due.kind, due.generation});
  cv_.notify_one();
}

ProberManager::Notice ProberManager::Apply(Container& c, Probe& p, const ProbeOutcome& out) {
  Notice n;
  n.ref = c.ref;
  std::string kind = ProbeKindName(p.kind);
  if (out.result == ProbeResult::kUnknown) {
    // A probe that could not run says nothing about the container: kept
    // out of the thresholds.
    n.events.push_back(
        {"Unhealthy", kind + " probe errored and resulted in unknown state: " + out.message});
    return n;
  }
  if (out.result == ProbeResult::kFailure) {
    n.events.push_back({"Unhealthy", kind + " probe failed: " + out.message});
    BLOG(kInfo) << "probe failed: " << Lowercase(ProbeKindName(p.kind)) << " " << c.pod_uid << "/"
                << c.name << ": " << out.message;
  } else if (out.warning) {
    n.events.push_back({"ProbeWarning", kind + " probe warning: " + out.message});
  }
  if (p.last == out.result) {
    ++p.run;
  } else {
    p.last = out.result;
    p.run = 1;
  }
  bool failed = out.result == ProbeResult::kFailure;
  if (p.run < (failed ? p.failure_threshold : p.success_threshold)) return n;

  if (p.result != out.result) {
    p.result = out.result;
    n.update = Update{c.pod_uid, c.name, c.id, p.kind, out.result, out.message};
  }
  if ((p.kind == ProbeKind::kLiveness && failed) || p.kind == ProbeKind::kStartup) {
    // The container is restarted (or has started): nothing to probe until
    // a new container comes.
    p.on_hold = true;
    p.run = 0;
  }
  if (p.kind == ProbeKind::kStartup && !failed) {
    auto self = containers_.find({c.pod_uid, c.name});
    for (ProbeKind other : {ProbeKind::kLiveness, ProbeKind::kReadiness}) {
      if (Probe* sibling = c.Get(other); sibling != nullptr && self != containers_.end()) {
        ScheduleFirstRunLocked(self->second, *sibling);
      }
    }
  }
  return n;
}

void ProberManager::Emit(const Notice& notice) {
  if (events_ != nullptr) {
    for (const Notice::Event& e : notice.events)
      events_->Record(notice.ref, "Warning", e.reason, e.message);
  }
  if (notice.update && on_change_) on_change_(*notice.update);
}

}  // namespace berth::agent
