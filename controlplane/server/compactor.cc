#include "controlplane/server/compactor.h"

#include "common/log.h"

namespace berth::controlplane {

Compactor::Compactor(storage::Store& store, std::chrono::seconds interval)
    : store_(store), interval_(interval) {
  if (interval_.count() > 0) thread_ = std::thread([this] { Run(); });
}

Compactor::~Compactor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t Compactor::Tick() {
  int64_t compacted = 0;
  if (previous_ > 0) {
    Result<int64_t> done = store_.CompactedRevision();
    if (done.ok() && *done < previous_) {
      if (Status s = store_.Compact(previous_); s.ok()) {
        compacted = previous_;
      } else {
        BLOG(kWarn) << "compact the store to revision " << previous_ << ": " << s.error().str();
      }
    }
  }
  Result<int64_t> now = store_.CurrentRevision();
  if (now.ok()) previous_ = *now;
  return compacted;
}

void Compactor::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Tick();
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace berth::controlplane
