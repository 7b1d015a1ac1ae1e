#include "controlplane/controllers/zone_taint_queue.h"

#include <algorithm>

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

constexpr double kBurst = 1;  // upstream's EvictionRateLimiterBurst

std::string Label(const boost::json::object& node, std::string_view ga, std::string_view beta) {
  std::string v = StringAt(node, {"metadata", "labels", ga});
  return v.empty() ? StringAt(node, {"metadata", "labels", beta}) : v;
}

}  // namespace

std::string ZoneKey(const boost::json::object& node) {
  std::string region =
      Label(node, "topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region");
  std::string zone =
      Label(node, "topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone");
  if (region.empty() && zone.empty()) return "";
  return region + std::string(":\x00:", 3) + zone;
}

std::pair<int, ZoneState> ComputeZoneState(const std::vector<bool>& ready,
                                           double unhealthy_threshold) {
  int ready_nodes = static_cast<int>(std::count(ready.begin(), ready.end(), true));
  int not_ready = static_cast<int>(ready.size()) - ready_nodes;
  if (ready_nodes == 0 && not_ready > 0) return {not_ready, ZoneState::kFullDisruption};
  if (not_ready > 2 &&
      static_cast<double>(not_ready) / static_cast<double>(ready.size()) >= unhealthy_threshold) {
    return {not_ready, ZoneState::kPartialDisruption};
  }
  return {not_ready, ZoneState::kNormal};
}

ZoneTaintQueue::ZoneTaintQueue(double qps) : qps_(qps), tokens_(qps > 0 ? kBurst : 0) {}

bool ZoneTaintQueue::Add(const std::string& node) {
  if (!known_.insert(node).second) return false;
  queue_[node] = Clock::time_point::min();
  return true;
}

bool ZoneTaintQueue::Remove(const std::string& node) {
  queue_.erase(node);
  return known_.erase(node) > 0;
}

bool ZoneTaintQueue::TryAccept(Clock::time_point now) {
  if (qps_ <= 0) return false;
  if (refilled_) {
    double elapsed = std::chrono::duration<double>(now - *refilled_).count();
    tokens_ = std::min(kBurst, tokens_ + elapsed * qps_);
  }
  refilled_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

std::optional<std::string> ZoneTaintQueue::Next(Clock::time_point now) {
  if (queue_.empty()) return std::nullopt;
  auto head = std::min_element(queue_.begin(), queue_.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  // As upstream, a token is spent before looking at the head's time.
  if (!TryAccept(now) || now < head->second) return std::nullopt;
  return head->first;
}

void ZoneTaintQueue::Processed(const std::string& node, bool done, Clock::duration retry,
                               Clock::time_point now) {
  auto it = queue_.find(node);
  if (it == queue_.end()) return;
  if (done) {
    queue_.erase(it);
  } else {
    it->second = now + retry;
  }
}

void ZoneTaintQueue::SwapLimiter(double qps, Clock::time_point now) {
  if (qps == qps_) return;
  // A new bucket starts full, but not while the old one is exhausted
  // (upstream drains the new one then).
  bool exhausted = !TryAccept(now);
  qps_ = qps;
  tokens_ = qps > 0 && !exhausted ? kBurst : 0;
  refilled_ = now;
}

}  // namespace berth::controlplane::controllers
