#include "runtime/cri/images/gc.h"

#include <algorithm>
#include <set>

#include "runtime/image/content_walk.h"

namespace berth::cri {

namespace img = ::berth::image;

GcGate::Hold& GcGate::Hold::operator=(Hold&& other) noexcept {
  if (this != &other) {
    Release();
    gate_ = std::exchange(other.gate_, nullptr);
  }
  return *this;
}

void GcGate::Hold::Release() {
  if (GcGate* gate = std::exchange(gate_, nullptr)) gate->Leave();
}

GcGate::Hold GcGate::Enter() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !collecting_; });
  ++holders_;
  return Hold(this);
}

void GcGate::Leave() {
  std::unique_lock<std::mutex> lock(mu_);
  --holders_;
  RunPending(lock);
}

void GcGate::Request() {
  std::unique_lock<std::mutex> lock(mu_);
  pending_ = true;
  RunPending(lock);
}

void GcGate::RunPending(std::unique_lock<std::mutex>& lock) {
  // A request made while a collection runs is served by another round in
  // the collecting thread (the records may have changed after its mark).
  while (pending_ && holders_ == 0 && !collecting_) {
    pending_ = false;
    collecting_ = true;
    lock.unlock();
    collect_();
    lock.lock();
    collecting_ = false;
    cv_.notify_all();
  }
}

namespace {

struct Marks {
  std::set<img::Digest> blobs;
  std::set<img::Digest> snapshots;
};

Status MarkRecords(const img::ImageRoot& root, Marks* marks) {
  const img::ContentStore& content = root.content();
  for (const img::ImageRecord& r : BERTH_TRY(root.images().List())) {
    img::ImageContent walk = BERTH_TRY(img::WalkImage(content, r.target));
    for (const auto* list : {&walk.documents, &walk.configs, &walk.layers, &walk.missing}) {
      for (const img::Descriptor& d : *list)
        marks->blobs.insert(d.digest);
    }
    for (const img::Descriptor& c : walk.configs) {
      img::ImageConfig config = BERTH_TRY(
          img::ParseImageConfig(BERTH_TRY(content.Read(c.digest)), "config " + c.digest.str()));
      for (const img::Digest& id : img::ChainIds(config.diff_ids))
        marks->snapshots.insert(id);
    }
  }
  return Ok();
}

void MarkInUse(img::Snapshots& snapshots, const std::vector<img::Digest>& in_use, Marks* marks) {
  for (img::Digest id : in_use) {
    // Ancestors by their metadata; a missing one ends the chain.
    while (!id.empty() && marks->snapshots.insert(id).second) {
      Result<img::SnapshotInfo> info = snapshots.Stat(id);
      if (!info.ok()) break;
      id = info->parent;
    }
  }
}

Status SweepBlobs(const img::ContentStore& content, const Marks& marks, img::PruneReport* report) {
  BERTH_TRY(content.CleanIngest());
  for (const img::Digest& d : BERTH_TRY(content.List())) {
    if (marks.blobs.count(d)) continue;
    uint64_t size = static_cast<uint64_t>(content.Size(d).value_or(0));
    Status s = content.Delete(d);
    if (!s.ok() && s.error().code() != Errc::kNotFound) return s;
    report->bytes += size;
    report->blobs.push_back(d);
  }
  return Ok();
}

Status SweepSnapshots(img::Snapshots& snapshots, const Marks& marks, img::PruneReport* report) {
  std::vector<img::SnapshotInfo> left;
  for (img::SnapshotInfo& s : BERTH_TRY(snapshots.List())) {
    if (!marks.snapshots.count(s.chain_id)) left.push_back(std::move(s));
  }
  while (!left.empty()) {
    size_t before = left.size();
    for (auto it = left.begin(); it != left.end();) {
      bool is_parent = std::any_of(left.begin(), left.end(), [&](const img::SnapshotInfo& o) {
        return o.parent == it->chain_id;
      });
      if (is_parent) {
        ++it;
        continue;
      }
      Status s = snapshots.Remove(it->chain_id);
      if (!s.ok() && s.error().code() != Errc::kNotFound) return s;
      report->bytes += it->size;
      report->snapshots.push_back(it->chain_id);
      it = left.erase(it);
    }
    if (left.size() == before) {
      return Error(Errc::kFailedPrecondition, "gc: snapshot " + left.front().chain_id.str() +
                                                  " is the parent of a snapshot still in use");
    }
  }
  return Ok();
}

}  // namespace

Result<img::PruneReport> CollectGarbage(img::ImageRoot& root,
                                        const std::vector<img::Digest>& in_use) {
  Marks marks;
  BERTH_TRY(MarkRecords(root, &marks));
  MarkInUse(root.snapshots(), in_use, &marks);
  img::PruneReport report;
  BERTH_TRY(SweepBlobs(root.content(), marks, &report));
  BERTH_TRY(SweepSnapshots(root.snapshots(), marks, &report));
  return report;
}

}  // namespace berth::cri
