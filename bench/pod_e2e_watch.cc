#include "bench/pod_e2e_watch.h"

#include <chrono>
#include <thread>

#include "common/time.h"

namespace berth::bench::pod_e2e {

namespace bj = boost::json;
namespace client = controlplane::client;

namespace {

const bj::value* At(const bj::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const bj::value* found = v.find_pointer(pointer, ec);
  return ec ? nullptr : found;
}

std::string StringAt(const bj::value& v, std::string_view pointer) {
  const bj::value* found = At(v, pointer);
  return found != nullptr && found->is_string() ? std::string(found->as_string()) : "";
}

bool ReadyTrue(const bj::value& pod) {
  const bj::value* conditions = At(pod, "/status/conditions");
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const bj::value& c : conditions->as_array()) {
    if (StringAt(c, "/type") == "Ready") return StringAt(c, "/status") == "True";
  }
  return false;
}

std::chrono::nanoseconds Until(int64_t deadline_ns) {
  return std::chrono::nanoseconds(std::max<int64_t>(0, deadline_ns - MonotonicNanos()));
}

}  // namespace

PodClock::PodClock(const client::ClientConfig& admin, std::string ns)
    : ns_(std::move(ns)), client_(std::make_unique<client::ApiClient>(admin)) {
  client::InformerHandlers handlers;
  handlers.added = [this](const bj::object& pod) { Observe(pod); };
  handlers.updated = [this](const bj::object&, const bj::object& now) { Observe(now); };
  handlers.deleted = [this](const bj::object& pod) { ObserveDeleted(pod); };
  informer_ = std::make_unique<client::Informer>(*client_, "/api/v1/namespaces/" + ns_ + "/pods",
                                                 std::move(handlers));
}

PodClock::~PodClock() {
  Stop();
}

Status PodClock::Start() {
  informer_->Start();
  for (int i = 0; i < 300; ++i) {  // 30 s
    if (informer_->Synced()) return Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error(Errc::kDeadlineExceeded, "the pod watch on namespace " + ns_ + " did not sync");
}

void PodClock::Stop() {
  if (informer_) informer_->Stop();
}

void PodClock::Observe(const bj::object& pod) {
  int64_t now = MonotonicNanos();
  bj::value v(pod);
  std::string name = StringAt(v, "/metadata/name");
  std::string phase = StringAt(v, "/status/phase");
  std::lock_guard<std::mutex> lock(mu_);
  PodTimes& t = pods_[name];
  if (t.bound == 0 && !StringAt(v, "/spec/nodeName").empty()) t.bound = now;
  if (t.running == 0 && phase == "Running") t.running = now;
  if (t.ready == 0 && phase == "Running" && ReadyTrue(v)) t.ready = now;
  if (t.failure.empty() && (phase == "Failed" || phase == "Succeeded")) {
    t.failure = "phase " + phase + " " + StringAt(v, "/status/reason") + " " +
                StringAt(v, "/status/message");
  }
  changed_.notify_all();
}

void PodClock::ObserveDeleted(const bj::object& pod) {
  std::string name = StringAt(bj::value(pod), "/metadata/name");
  std::lock_guard<std::mutex> lock(mu_);
  pods_[name].gone = true;
  changed_.notify_all();
}

Status PodClock::Create(client::ApiClient& api, const std::string& name,
                        const std::string& pod_json) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pods_[name] = PodTimes{};
    pods_[name].create_sent = MonotonicNanos();
  }
  Result<client::ApiResponse> r = api.Do("POST", "/api/v1/namespaces/" + ns_ + "/pods", pod_json);
  int64_t answered = MonotonicNanos();
  std::string failure;
  if (!r.ok()) {
    failure = r.error().str();
  } else if (r->status != 201) {
    failure = "HTTP " + std::to_string(r->status) + " " + r->body;
  }
  std::lock_guard<std::mutex> lock(mu_);
  pods_[name].create_answered = answered;
  if (!failure.empty()) {
    pods_[name].failure = "create: " + failure;
    changed_.notify_all();
    return Error(Errc::kInternal, "creating pod " + name + ": " + failure);
  }
  return Ok();
}

bool PodClock::WaitReady(const std::vector<std::string>& names, int64_t deadline_ns) {
  std::unique_lock<std::mutex> lock(mu_);
  auto settled = [&] {
    for (const std::string& n : names) {
      auto it = pods_.find(n);
      if (it == pods_.end() || (it->second.ready == 0 && it->second.failure.empty())) return false;
    }
    return true;
  };
  changed_.wait_for(lock, Until(deadline_ns), settled);
  for (const std::string& n : names) {
    auto it = pods_.find(n);
    if (it == pods_.end() || it->second.ready == 0) return false;
  }
  return true;
}

bool PodClock::WaitGone(const std::vector<std::string>& names, int64_t deadline_ns) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, Until(deadline_ns), [&] {
    for (const std::string& n : names) {
      auto it = pods_.find(n);
      if (it != pods_.end() && !it->second.gone) return false;
    }
    return true;
  });
}

PodTimes PodClock::Times(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(name);
  return it == pods_.end() ? PodTimes{} : it->second;
}

void PodClock::Forget(const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& n : names)
    pods_.erase(n);
}

std::string DemoPod(const std::string& name, const std::string& node, const std::string& image) {
  bj::object container{{"name", "httpd"}, {"image", image}, {"imagePullPolicy", "Never"}};
  bj::object pod{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", bj::object{{"name", name}, {"labels", bj::object{{"bench", "pod-e2e"}}}}},
      {"spec", bj::object{{"nodeSelector", bj::object{{"kubernetes.io/hostname", node}}},
                          // httpd as PID 1 ignores SIGTERM: teardown (untimed)
                          // waits for the grace period.
                          {"terminationGracePeriodSeconds", 1},
                          {"containers", bj::array{container}}}}};
  return bj::serialize(pod);
}

}  // namespace berth::bench::pod_e2e
