#pragma once
// Container lifecycle events fanned out to GetContainerEvents streams: each
// subscriber has a bounded queue; a subscriber that falls too far behind
// loses its oldest events rather than slowing the runtime down.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {

class EventHub {
 public:
  class Subscription {
   public:
    // The next event, or nullopt after `timeout` (so callers can check for
    // cancellation).
    std::optional<::runtime::v1::ContainerEventResponse> Next(std::chrono::milliseconds timeout);

   private:
    friend class EventHub;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<::runtime::v1::ContainerEventResponse> queue_;
  };

  std::shared_ptr<Subscription> Subscribe();
  void Unsubscribe(const std::shared_ptr<Subscription>& s);
  void Publish(const ::runtime::v1::ContainerEventResponse& event);

  static constexpr size_t kMaxQueued = 1024;

 private:
  std::mutex mu_;
  std::set<std::shared_ptr<Subscription>> subscribers_;
};

}  // namespace berth::cri
