#include "runtime/cri/server/event_hub.h"

namespace berth::cri {

std::optional<::runtime::v1::ContainerEventResponse> EventHub::Subscription::Next(
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !queue_.empty(); })) return std::nullopt;
  auto event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

std::shared_ptr<EventHub::Subscription> EventHub::Subscribe() {
  auto s = std::make_shared<Subscription>();
  std::lock_guard lock(mu_);
  subscribers_.insert(s);
  return s;
}

void EventHub::Unsubscribe(const std::shared_ptr<Subscription>& s) {
  std::lock_guard lock(mu_);
  subscribers_.erase(s);
}

void EventHub::Publish(const ::runtime::v1::ContainerEventResponse& event) {
  std::lock_guard lock(mu_);
  for (const auto& s : subscribers_) {
    std::lock_guard q(s->mu_);
    if (s->queue_.size() >= kMaxQueued) s->queue_.pop_front();
    s->queue_.push_back(event);
    s->cv_.notify_one();
  }
}

}  // namespace berth::cri
