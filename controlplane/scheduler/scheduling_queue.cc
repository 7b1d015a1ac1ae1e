#include "controlplane/scheduler/scheduling_queue.h"

#include <algorithm>

namespace berth::controlplane::scheduler {

SchedulingQueue::Clock::duration SchedulingQueue::BackoffFor(const Entry& e) const {
  Clock::duration d = timing_.initial_backoff;
  for (int i = 1; i < e.attempts && d < timing_.max_backoff; ++i)
    d *= 2;
  return std::min<Clock::duration>(d, timing_.max_backoff);
}

// Backoff counts from the last attempt, so a pod that waited long for a
// change is tried at once.
void SchedulingQueue::ToBackoff(Entry& e) {
  e.ready_at = e.last_attempt + BackoffFor(e);
  e.state = State::kBackoff;
}

void SchedulingQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (inserted) {
    active_.push_back(key);
  } else if (e.state == State::kInFlight) {
    e.updated_in_flight = true;
  } else if (e.state == State::kUnschedulable) {
    // Its spec changed (tolerations, labels): worth another try after
    // its backoff.
    ToBackoff(e);
  } else {
    return;
  }
  cv_.notify_one();
}

void SchedulingQueue::Delete(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.state == State::kActive) std::erase(active_, key);
  entries_.erase(it);
}

std::optional<SchedulingQueue::Clock::time_point> SchedulingQueue::Promote(Clock::time_point now) {
  std::optional<Clock::time_point> next;
  auto sooner = [&](Clock::time_point t) { next = next ? std::min(*next, t) : t; };
  for (auto& [key, e] : entries_) {
    if (e.state == State::kBackoff) {
      if (e.ready_at <= now) {
        e.state = State::kActive;
        active_.push_back(key);
      } else {
        sooner(e.ready_at);
      }
    } else if (e.state == State::kUnschedulable) {
      Clock::time_point due = e.parked_at + timing_.unschedulable_flush;
      if (due <= now) {
        e.state = State::kActive;
        active_.push_back(key);
      } else {
        sooner(due);
      }
    }
  }
  return next;
}

std::optional<std::string> SchedulingQueue::Pop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (closed_) return std::nullopt;
    std::optional<Clock::time_point> next;
    if (active_.empty()) next = Promote(Clock::now());
    if (!active_.empty()) {
      std::string key = std::move(active_.front());
      active_.pop_front();
      Entry& e = entries_.at(key);
      e.state = State::kInFlight;
      ++e.attempts;
      e.attempt_cycle = change_cycle_;
      e.last_attempt = Clock::now();
      e.updated_in_flight = false;
      return key;
    }
    if (next) {
      cv_.wait_until(lock, *next);
    } else {
      cv_.wait(lock);
    }
  }
}

void SchedulingQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  // Kept (in flight, never popped again) until the informer sees the
  // binding and calls Delete, so that a late Add does not queue it anew.
  if (it != entries_.end()) it->second.attempts = 0;
}

void SchedulingQueue::Unschedulable(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (e.updated_in_flight || change_cycle_ != e.attempt_cycle) {
    ToBackoff(e);
  } else {
    e.state = State::kUnschedulable;
    e.parked_at = Clock::now();
  }
  cv_.notify_one();
}

void SchedulingQueue::Backoff(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  ToBackoff(it->second);
  cv_.notify_one();
}

void SchedulingQueue::ClusterChanged() {
  std::lock_guard lock(mu_);
  ++change_cycle_;
  bool moved = false;
  for (auto& [key, e] : entries_) {
    if (e.state != State::kUnschedulable) continue;
    ToBackoff(e);
    moved = true;
  }
  if (moved) cv_.notify_one();
}

void SchedulingQueue::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

SchedulingQueue::Counts SchedulingQueue::counts() const {
  std::lock_guard lock(mu_);
  Counts c;
  for (const auto& [key, e] : entries_) {
    switch (e.state) {
      case State::kActive:
        ++c.active;
        break;
      case State::kBackoff:
        ++c.backoff;
        break;
      case State::kUnschedulable:
        ++c.unschedulable;
        break;
      case State::kInFlight:
        ++c.in_flight;
        break;
    }
  }
  return c;
}

}  // namespace berth::controlplane::scheduler
