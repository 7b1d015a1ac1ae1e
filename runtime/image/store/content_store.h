#pragma once
// The content store: blobs addressed by digest, shared by every image.
//
//   <root>/blobs/sha256/<hex>      committed, verified, read-only (0444)
//   <root>/ingest/<hex>.lock       held (flock) by whoever is writing <hex>
//   <root>/ingest/<hex>.<random>   the data being written
//
// A blob appears only by rename after its digest and size were verified, so
// a reader never sees partial content and a crash leaves at most a stray
// ingest file (removed by Prune). Writers of the same digest, in this or
// another process, serialize on the lock: the second one finds the blob
// committed and downloads nothing.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/image/digest.h"

namespace berth::image {

class BlobWriter {
 public:
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;
  ~BlobWriter();  // aborts unless committed: the partial data is removed

  Status Write(const void* data, size_t size);
  Status Write(std::string_view data) { return Write(data.data(), data.size()); }
  // Verifies size and digest, then publishes the blob. A mismatch is an
  // error naming the expected digest, and nothing remains in the store.
  Status Commit();
  // Drops what was written (e.g. to retry a download from the start).
  Status Reset();
  uint64_t written() const { return written_; }

 private:
  friend class ContentStore;
  BlobWriter() = default;
  std::string blobs_dir_, temp_path_, final_path_, lock_path_;
  Digest expected_;
  int64_t expected_size_ = -1;
  UniqueFd lock_, file_;
  Sha256 hash_;
  uint64_t written_ = 0;
  bool committed_ = false;
};

class ContentStore {
 public:
  // Creates the directories if needed.
  static Result<ContentStore> Open(std::string root);

  const std::string& root() const { return root_; }
  std::string BlobPath(const Digest& digest) const;
  bool Has(const Digest& digest) const;
  // Size of a committed blob, NotFound when absent.
  Result<int64_t> Size(const Digest& digest) const;
  // A committed blob's content; refuses blobs over `max_size` (documents).
  Result<std::string> Read(const Digest& digest, size_t max_size = size_t{16} << 20) const;

  // Starts writing `digest` (size -1 = unknown). Blocks while another writer
  // holds the digest. Returns null when the blob is (by then) committed.
  Result<std::unique_ptr<BlobWriter>> Begin(const Digest& digest, int64_t size) const;
  // Writes a small blob in one go (manifests, configs); verified.
  Status Put(const Digest& digest, std::string_view data) const;
  // Adds a file that is already on disk (import): verified, copied in.
  Status PutFile(const Digest& digest, const std::string& path) const;

  Result<std::vector<Digest>> List() const;
  Status Delete(const Digest& digest) const;
  // Removes ingest files whose lock nobody holds (crashed writers).
  Status CleanIngest() const;

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace berth::image
