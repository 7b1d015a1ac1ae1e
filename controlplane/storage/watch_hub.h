#pragma once
// In-process fan-out of a store's events to its watchers: each watcher has
// its own queue, so a slow reader never holds up writes or other readers;
// one that falls more than `max_queue` events behind is cut off
// (kResourceExhausted) and must re-list, as an apiserver drops a watcher
// whose buffer is full.
//
// The store calls Register and Publish under its write lock, so a new
// watcher's backlog (read from history) and the live events that follow
// neither overlap nor leave a gap.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/storage/store.h"

namespace berth::controlplane::storage {

class WatchHub {
 public:
  explicit WatchHub(size_t max_queue = 100000) : max_queue_(max_queue) {}
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // A watcher of keys under `prefix` whose first events are `backlog`.
  std::unique_ptr<WatchStream> Register(std::string prefix, std::vector<Event> backlog);
  void Publish(const Event& event);
  // Ends every watcher's stream with kCancelled.
  void Close();

 private:
  struct Watcher;
  class Stream;

  size_t max_queue_;
  std::mutex mu_;
  std::vector<std::weak_ptr<Watcher>> watchers_;
  bool closed_ = false;
};

}  // namespace berth::controlplane::storage
