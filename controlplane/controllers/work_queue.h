#pragma once
// A controller's queue of keys to sync, with client-go's workqueue
// semantics:
//
//   - a key is queued once however often it is added before a worker
//     takes it (dirty set);
//   - a key a worker holds (between Get and Done) is not handed to another
//     worker; added meanwhile, it is queued again at Done;
//   - AddAfter holds a key back until a time (the earliest one wins);
//   - AddRateLimited is AddAfter with a per-key exponential backoff
//     (base_delay doubling per failure, as client-go's default item
//     limiter, capped at max_delay: 60 s rather than client-go's 1000 s,
//     so a key that failed for a while is retried within a minute once
//     the cause is gone), reset by Forget.
//
// One difference: after ShutDown, Get returns nullopt at once instead of
// handing out what is still queued, so that workers stop promptly; what a
// stopped controller left undone is found again from its informers'
// initial lists when it next starts.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace berth::controlplane::controllers {

struct RateLimit {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{60000};
};

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkQueue(RateLimit limit = {}) : limit_(limit) {}
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key);
  // Adds `key` after `delay` (at once when it is not positive).
  void AddAfter(const std::string& key, Clock::duration delay);
  // Adds `key` after its backoff and counts one more failure for it.
  void AddRateLimited(const std::string& key);
  // The key's sync succeeded: its backoff starts over.
  void Forget(const std::string& key);
  // Failures counted for `key` since it was last forgotten.
  int NumRequeues(const std::string& key) const;

  // The next key, waiting for one; nullopt once shut down.
  std::optional<std::string> Get();
  // The worker is done with `key` (from Get).
  void Done(const std::string& key);

  // Wakes every Get with nullopt; later adds are ignored.
  void ShutDown();
  bool ShuttingDown() const;
  // Keys ready to hand out (not those held back or being processed).
  size_t Len();

 private:
  void AddLocked(const std::string& key);
  // Queues the held-back keys whose time came; the next such time.
  std::optional<Clock::time_point> PromoteLocked(Clock::time_point now);

  RateLimit limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;                       // queued, or to queue again at Done
  std::set<std::string> processing_;                  // handed out, not yet Done
  std::map<std::string, Clock::time_point> waiting_;  // AddAfter: key -> when
  std::set<std::pair<Clock::time_point, std::string>> waiting_by_time_;
  std::map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace berth::controlplane::controllers
