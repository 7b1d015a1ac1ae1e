#include "controlplane/storage/watch_hub.h"

#include <condition_variable>
#include <deque>

namespace berth::controlplane::storage {

struct WatchHub::Watcher {
  std::string prefix;
  std::mutex mu;
  std::condition_variable ready;
  std::deque<Event> queue;
  bool overflowed = false;
  bool closed = false;
};

class WatchHub::Stream : public WatchStream {
 public:
  explicit Stream(std::shared_ptr<Watcher> w) : w_(std::move(w)) {}

  Result<std::vector<Event>> Next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(w_->mu);
    w_->ready.wait_for(lock, timeout,
                       [&] { return !w_->queue.empty() || w_->overflowed || w_->closed; });
    if (w_->overflowed) {
      return Error(Errc::kResourceExhausted,
                   "watch on `" + w_->prefix + "` fell too far behind; list and watch again");
    }
    std::vector<Event> out(std::make_move_iterator(w_->queue.begin()),
                           std::make_move_iterator(w_->queue.end()));
    w_->queue.clear();
    if (out.empty() && w_->closed) return Error(Errc::kCancelled, "the store is closing");
    return out;
  }

 private:
  std::shared_ptr<Watcher> w_;
};

WatchHub::~WatchHub() {
  Close();
}

std::unique_ptr<WatchStream> WatchHub::Register(std::string prefix, std::vector<Event> backlog) {
  auto w = std::make_shared<Watcher>();
  w->prefix = std::move(prefix);
  w->queue.assign(std::make_move_iterator(backlog.begin()), std::make_move_iterator(backlog.end()));
  std::lock_guard lock(mu_);
  w->closed = closed_;
  watchers_.push_back(w);
  return std::make_unique<Stream>(std::move(w));
}

void WatchHub::Publish(const Event& event) {
  std::lock_guard lock(mu_);
  size_t live = 0;
  for (std::weak_ptr<Watcher>& weak : watchers_) {
    std::shared_ptr<Watcher> w = weak.lock();
    if (!w) continue;
    watchers_[live++] = weak;
    if (!event.kv.key.starts_with(w->prefix)) continue;
    std::lock_guard wlock(w->mu);
    if (w->overflowed) continue;
    if (w->queue.size() >= max_queue_) {
      w->overflowed = true;
      w->queue.clear();
    } else {
      w->queue.push_back(event);
    }
    w->ready.notify_all();
  }
  watchers_.resize(live);
}

void WatchHub::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (std::weak_ptr<Watcher>& weak : watchers_) {
    if (std::shared_ptr<Watcher> w = weak.lock()) {
      std::lock_guard wlock(w->mu);
      w->closed = true;
      w->ready.notify_all();
    }
  }
  watchers_.clear();
}

}  // namespace berth::controlplane::storage
