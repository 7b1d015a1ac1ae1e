#pragma once
// The queue of pods waiting for a node, as kube-scheduler's priority
// queue keeps it (without priorities: oldest first):
//
//   active         ready to try now
//   backoff        failed recently; ready after 1 s, doubling per attempt
//                  up to 10 s
//   unschedulable  no node fits; retried when the cluster changes (a node
//                  added or updated, a pod deleted) or after a minute
//
// A pod that failed while the cluster changed under its attempt goes to
// backoff rather than waiting for the next change.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace berth::controlplane::scheduler {

struct QueueTiming {
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds unschedulable_flush{60000};
};

class SchedulingQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SchedulingQueue(QueueTiming timing = {}) : timing_(timing) {}

  // A pending pod seen (added or updated). New pods go to active; an
  // unschedulable one that changed is tried again.
  void Add(const std::string& key);
  // The pod was bound or deleted: forget it.
  void Delete(const std::string& key);
  // The next pod to try, when one is ready; nullopt once closed.
  std::optional<std::string> Pop();
  // The attempt ended: placed (Done), no node fits (Unschedulable), or an
  // error such as a failed binding (Backoff).
  void Done(const std::string& key);
  void Unschedulable(const std::string& key);
  void Backoff(const std::string& key);
  // Something changed that may make unschedulable pods fit.
  void ClusterChanged();
  void Close();

  // Counts per state, for tests and metrics.
  struct Counts {
    size_t active = 0, backoff = 0, unschedulable = 0, in_flight = 0;
  };
  Counts counts() const;

 private:
  enum class State { kActive, kBackoff, kUnschedulable, kInFlight };
  struct Entry {
    State state = State::kActive;
    int attempts = 0;
    Clock::time_point last_attempt;  // when last popped
    Clock::time_point ready_at;      // kBackoff: when it may be tried
    Clock::time_point parked_at;     // kUnschedulable: since when
    uint64_t attempt_cycle = 0;      // change counter when last popped
    bool updated_in_flight = false;  // Add while being tried
  };
  Clock::duration BackoffFor(const Entry& e) const;
  void ToBackoff(Entry& e);
  // Moves due backoff pods and long-parked unschedulable ones to active;
  // the next time something becomes due.
  std::optional<Clock::time_point> Promote(Clock::time_point now);

  QueueTiming timing_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;
  std::deque<std::string> active_;  // keys in kActive, in order
  uint64_t change_cycle_ = 0;
  bool closed_ = false;
};

}  // namespace berth::controlplane::scheduler
