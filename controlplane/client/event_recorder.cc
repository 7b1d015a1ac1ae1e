#include "controlplane/client/event_recorder.h"

#include <sys/random.h>
#include <unistd.h>

#include <cstdio>

#include "common/log.h"
#include "common/time.h"

namespace berth::controlplane::client {
namespace {

namespace bj = boost::json;

constexpr auto kCorrelationWindow = std::chrono::minutes(10);

std::string Str(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

// client-go names events <object>.<16 hex digits of the time>; a random
// suffix keeps two recorders from colliding.
std::string EventName(const std::string& object_name) {
  uint64_t r = 0;
  while (::getrandom(&r, sizeof r, 0) != sizeof r) {
  }
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(r));
  return object_name + "." + suffix;
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

ObjectRef ObjectRef::Of(const bj::object& obj) {
  ObjectRef ref{Str(obj, "apiVersion"), Str(obj, "kind"), "", "", ""};
  if (const bj::value* m = obj.if_contains("metadata"); m && m->is_object()) {
    ref.namespace_ = Str(m->as_object(), "namespace");
    ref.name = Str(m->as_object(), "name");
    ref.uid = Str(m->as_object(), "uid");
  }
  return ref;
}

EventRecorder::EventRecorder(ClientConfig config, std::string component, size_t queue_limit,
                             std::string host)
    : client_(std::move(config)),
      component_(std::move(component)),
      host_(host.empty() ? HostName() : std::move(host)),
      queue_limit_(queue_limit),
      thread_([this] { Run(); }) {}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventRecorder::Record(const ObjectRef& object, const std::string& type,
                           const std::string& reason, const std::string& message) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= queue_limit_) {
      BLOG(kWarn) << "event dropped, queue full: " << object.kind << " " << object.namespace_ << "/"
                  << object.name << " " << reason;
      return;
    }
    queue_.push_back({object, type, reason, message, FormatRfc3339(WallClockNow().tv_sec)});
  }
  cv_.notify_all();
}

void EventRecorder::Flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
}

void EventRecorder::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything written
    Pending e = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    lock.unlock();
    Write(e);
    lock.lock();
    --in_flight_;
    cv_.notify_all();
  }
}

void EventRecorder::Write(const Pending& e) {
  const std::string ns = e.object.namespace_.empty() ? "default" : e.object.namespace_;
  const std::string key = e.object.uid + "\n" + e.object.field_path + "\n" + e.type + "\n" +
                          e.reason + "\n" + e.message;
  const std::string collection = "/api/v1/namespaces/" + ns + "/events";
  auto now = std::chrono::steady_clock::now();
  // Only this thread touches recent_. Expired entries are swept once a
  // minute, not on every event (thousands of Scheduled events in a burst).
  if (now - last_sweep_ > std::chrono::minutes(1)) {
    std::erase_if(recent_,
                  [&](const auto& entry) { return now - entry.second.at > kCorrelationWindow; });
    last_sweep_ = now;
  }
  if (auto it = recent_.find(key);
      it != recent_.end() && now - it->second.at <= kCorrelationWindow) {
    Written& w = it->second;
    bj::object patch{{"count", w.count + 1}, {"lastTimestamp", e.timestamp}};
    Result<ApiResponse> r = client_.Do("PATCH", collection + "/" + w.name, bj::serialize(patch),
                                       "application/merge-patch+json");
    if (r.ok() && r->status == 200) {
      ++w.count;
      w.at = now;
      return;
    }
    recent_.erase(it);  // gone (expired, deleted): make a new one
  }
  std::string name = EventName(e.object.name);
  bj::object involved{
      {"apiVersion", e.object.api_version}, {"kind", e.object.kind}, {"name", e.object.name}};
  if (!e.object.namespace_.empty()) involved["namespace"] = e.object.namespace_;
  if (!e.object.uid.empty()) involved["uid"] = e.object.uid;
  if (!e.object.field_path.empty()) involved["fieldPath"] = e.object.field_path;
  bj::object event{{"apiVersion", "v1"},
                   {"kind", "Event"},
                   {"metadata", bj::object{{"name", name}, {"namespace", ns}}},
                   {"involvedObject", std::move(involved)},
                   {"type", e.type},
                   {"reason", e.reason},
                   {"message", e.message},
                   {"source", bj::object{{"component", component_}, {"host", host_}}},
                   {"reportingComponent", component_},
                   {"reportingInstance", host_},
                   {"firstTimestamp", e.timestamp},
                   {"lastTimestamp", e.timestamp},
                   {"count", 1}};
  Result<ApiResponse> r = client_.Do("POST", collection, bj::serialize(event));
  if (!r.ok() || r->status != 201) {
    BLOG(kWarn) << "event " << ns << "/" << name << " (" << e.reason
                << ") not written: " << (r.ok() ? r->body : r.error().str());
    return;
  }
  recent_[key] = Written{ns, name, 1, now};
}

}  // namespace berth::controlplane::client
