#pragma once
// The node lifecycle controller's rate limiting of NoExecute taints, per
// zone, as upstream's: nodes found not ready wait in their zone's queue
// (scheduler.RateLimitedTimedQueue) and are tainted at most
// --node-eviction-rate per second (a token bucket of burst 1); a zone in
// partial disruption taints more slowly or not at all, and when every
// zone is fully disrupted nothing is tainted (the control plane, not the
// nodes, is then the likely culprit).

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace berth::controlplane::controllers {

enum class ZoneState { kInitial, kNormal, kPartialDisruption, kFullDisruption };

// The zone key of a node (nodetopology.GetZoneKey): region and zone
// labels (topology.kubernetes.io/, else failure-domain.beta...), "" when
// it has neither.
std::string ZoneKey(const boost::json::object& node);

// ComputeZoneState from the readiness of the zone's nodes: full
// disruption when none is ready, partial when more than two are not
// ready and they are at least `unhealthy_threshold` of it, else normal.
// Also the number not ready.
std::pair<int, ZoneState> ComputeZoneState(const std::vector<bool>& ready,
                                           double unhealthy_threshold);

// A queue of node names, each at most once (a node taken stays known
// until Remove, so it is not queued again while it stays tainted), taken
// in the order of when they may be processed, as fast as a token bucket
// allows. Not thread-safe.
class ZoneTaintQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ZoneTaintQueue(double qps);

  // Queues `node` unless known; whether it was queued.
  bool Add(const std::string& node);
  // Forgets `node`; whether it was known.
  bool Remove(const std::string& node);
  // The next node to process, taking a token: nullopt when the queue is
  // empty, the rate allows none now, or the head's time has not come.
  std::optional<std::string> Next(Clock::time_point now);
  // The outcome of processing `node` (from Next): done (it stays known)
  // or to be tried again after `retry`. Ignored for a node removed since.
  void Processed(const std::string& node, bool done, Clock::duration retry, Clock::time_point now);
  // A new rate (0: none at all); the same rate keeps the bucket.
  void SwapLimiter(double qps, Clock::time_point now);
  bool Empty() const { return queue_.empty(); }

 private:
  bool TryAccept(Clock::time_point now);

  std::map<std::string, Clock::time_point> queue_;  // node -> when it may be processed
  std::set<std::string> known_;
  double qps_;
  double tokens_ = 1;
  std::optional<Clock::time_point> refilled_;
};

}  // namespace berth::controlplane::controllers
