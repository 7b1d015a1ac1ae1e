#pragma once
// Garbage collection after RemoveImage (containerd deletes the last
// reference synchronously, so that kubelet's image GC sees the space come
// back), and the gate that keeps it away from pulls and unpacks in flight.
//
// A pull writes blobs and snapshots before the record that references
// them, so a mark-and-sweep from the records alone would take them. Pulls
// and unpacks therefore hold the gate (shared, never waiting for each
// other, and holding no lock across the network); a collection runs only
// when nobody holds it: at once when requested, otherwise as soon as the
// last holder leaves. While it runs, new holders wait for it.
//
// Snapshots of running containers are kept by the in-use chain IDs the
// RuntimeService reports (with all their ancestors), even when no image
// record names them any more.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "common/error.h"
#include "runtime/image/image_root.h"

namespace berth::cri {

class GcGate {
 public:
  class Hold {
   public:
    Hold() = default;
    explicit Hold(GcGate* gate) : gate_(gate) {}
    Hold(Hold&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Hold& operator=(Hold&& other) noexcept;
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { Release(); }
    void Release();

   private:
    GcGate* gate_ = nullptr;
  };

  explicit GcGate(std::function<void()> collect) : collect_(std::move(collect)) {}

  // Waits while a collection runs, then holds the gate until the Hold goes.
  Hold Enter();
  // Runs the collection now (in this thread) if nobody holds the gate,
  // otherwise in the thread of the last holder to leave.
  void Request();

 private:
  void Leave();
  void RunPending(std::unique_lock<std::mutex>& lock);

  std::function<void()> collect_;
  std::mutex mu_;
  std::condition_variable cv_;
  int holders_ = 0;
  bool pending_ = false;
  bool collecting_ = false;
};

// Mark and sweep: every blob and snapshot reachable from an image record
// or from `in_use` (snapshot chain IDs, ancestors included) stays; the rest
// and stale ingest files go. Children are removed before their parents.
Result<::berth::image::PruneReport> CollectGarbage(
    ::berth::image::ImageRoot& root, const std::vector<::berth::image::Digest>& in_use);

}  // namespace berth::cri
