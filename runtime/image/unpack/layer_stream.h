#pragma once
// One pass over a layer blob: decompression, the diff_id, and tar parsing.
//
// Two libarchive readers are chained. The first reads the blob with the
// gzip and zstd filters (detected from the content; no filter for a plain
// tar) and the "raw" format, so its data is the uncompressed stream. Every
// byte of that stream is hashed as it is handed, through a read callback,
// to the second reader, which parses it as tar (ustar, pax, GNU). After the
// end-of-archive marker, whatever the stream still holds is drained into
// the hash too, so the digest covers the whole uncompressed stream: the
// layer's diff_id (image-spec config.md, rootfs.diff_ids).

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/image/digest.h"
#include "runtime/image/unpack/entry_writer.h"

namespace berth::image {

class LayerStream : public EntryData {
 public:
  static Result<std::unique_ptr<LayerStream>> Open(const std::string& blob_path);
  ~LayerStream() override;
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // The next tar member, or nullptr after the last; valid until the next
  // call. Its data is read with WriteTo (or skipped by the next Next).
  Result<archive_entry*> Next();
  Status WriteTo(int fd, const std::string& what) override;
  // Drains the stream and returns the digest of all of it. Call once, after
  // Next returned nullptr.
  Result<Digest> Finish();

  // "gzip", "zstd" or "none".
  const std::string& compression() const { return compression_; }
  uint64_t uncompressed_bytes() const { return uncompressed_bytes_; }

 private:
  LayerStream() = default;
  static la_ssize_t ReadCallback(archive* tar, void* self, const void** buffer);
  Error ArchiveError(archive* a, const std::string& op) const;

  std::string path_;
  UniqueFd fd_;
  archive* raw_ = nullptr;  // blob -> uncompressed bytes
  archive* tar_ = nullptr;  // uncompressed bytes -> members
  bool raw_eof_ = false;
  std::vector<char> buffer_;
  Sha256 hash_;
  uint64_t uncompressed_bytes_ = 0;
  std::string compression_ = "none";
  std::string raw_error_;     // a failure of the first reader, seen by the second
  int64_t current_size_ = 0;  // header size of the member Next returned
};

}  // namespace berth::image
