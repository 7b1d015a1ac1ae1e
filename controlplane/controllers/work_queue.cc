#include "controlplane/controllers/work_queue.h"

#include <algorithm>
#include <cmath>

namespace berth::controlplane::controllers {

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (!dirty_.insert(key).second) return;
  if (processing_.contains(key)) return;  // queued again at Done
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, Clock::duration delay) {
  if (delay <= Clock::duration::zero()) return Add(key);
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  Clock::time_point when = Clock::now() + delay;
  auto it = waiting_.find(key);
  if (it != waiting_.end()) {
    if (it->second <= when) return;
    waiting_by_time_.erase({it->second, key});
    it->second = when;
  } else {
    waiting_.emplace(key, when);
  }
  waiting_by_time_.emplace(when, key);
  // A waiting Get may be sleeping until a later time.
  cv_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) {
  Clock::duration delay;
  {
    std::lock_guard lock(mu_);
    int failures = failures_[key]++;
    // base * 2^failures, computed in double so that it cannot overflow.
    double ms = static_cast<double>(limit_.base_delay.count()) *
                std::pow(2.0, static_cast<double>(std::min(failures, 62)));
    ms = std::min(ms, static_cast<double>(limit_.max_delay.count()));
    delay = std::chrono::milliseconds(static_cast<int64_t>(ms));
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<WorkQueue::Clock::time_point> WorkQueue::PromoteLocked(Clock::time_point now) {
  while (!waiting_by_time_.empty()) {
    auto first = waiting_by_time_.begin();
    if (first->first > now) return first->first;
    std::string key = first->second;
    waiting_by_time_.erase(first);
    waiting_.erase(key);
    AddLocked(key);
  }
  return std::nullopt;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    std::optional<Clock::time_point> next = PromoteLocked(Clock::now());
    if (!queue_.empty()) break;
    if (next) {
      cv_.wait_until(lock, *next);
    } else {
      cv_.wait(lock);
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.contains(key) && !shutting_down_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() {
  std::lock_guard lock(mu_);
  PromoteLocked(Clock::now());
  return queue_.size();
}

}  // namespace berth::controlplane::controllers
