#pragma once
// Keeps the store's history bounded, as kube-apiserver's
// --etcd-compaction-interval does: every interval, everything older than
// the revision seen at the previous tick is compacted, so watchers can
// resume from any revision of the last interval and older ones get 410.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "controlplane/storage/store.h"

namespace berth::controlplane {

class Compactor {
 public:
  Compactor(storage::Store& store, std::chrono::seconds interval);
  ~Compactor();  // stops the thread
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  // One tick: compacts up to the revision the previous tick saw and
  // remembers the current one. Returns the revision compacted to (0: none).
  int64_t Tick();

 private:
  void Run();

  storage::Store& store_;
  std::chrono::seconds interval_;
  int64_t previous_ = 0;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::controlplane
