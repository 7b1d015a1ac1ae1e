#pragma once
// Test helper: builds layer tarballs with libarchive's writer (pax), with
// exact control over names (including hostile ones), owners, modes, xattrs
// and whiteout markers, and compresses them as gzip or zstd.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/image/digest.h"

namespace berth::image::testing {

enum class Compression { kNone, kGzip, kZstd };

class TarBuilder {
 public:
  // New entries get this owner (default: the caller's uid/gid, so
  // unprivileged tests can apply them) and mtime.
  TarBuilder& Owner(uid_t uid, gid_t gid);
  TarBuilder& Mtime(int64_t seconds);

  TarBuilder& Dir(const std::string& path, mode_t mode = 0755);
  TarBuilder& File(const std::string& path, const std::string& content, mode_t mode = 0644);
  // A sparse member of `content.size()` bytes whose data regions are
  // `regions` ({offset, length}); the rest must be zeros in `content`.
  TarBuilder& SparseFile(const std::string& path, const std::string& content,
                         std::vector<std::pair<int64_t, int64_t>> regions);
  TarBuilder& Symlink(const std::string& path, const std::string& target);
  TarBuilder& Hardlink(const std::string& path, const std::string& target);
  // type: S_IFCHR or S_IFBLK.
  TarBuilder& Device(const std::string& path, mode_t type, unsigned major, unsigned minor,
                     mode_t mode = 0666);
  TarBuilder& Fifo(const std::string& path, mode_t mode = 0644);
  // "dir/name" -> member "dir/.wh.name".
  TarBuilder& Whiteout(const std::string& path);
  // "dir" -> member "dir/.wh..wh..opq".
  TarBuilder& Opaque(const std::string& dir);
  // Adds an xattr to the last entry.
  TarBuilder& Xattr(const std::string& name, const std::string& value);

  // The uncompressed tar stream.
  std::string Tar() const;

 private:
  struct Entry {
    std::string path;
    mode_t type = 0;
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    int64_t mtime = 0;
    std::string content;
    std::string symlink;
    std::string hardlink;
    unsigned major = 0;
    unsigned minor = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
    std::vector<std::pair<int64_t, int64_t>> sparse;
  };
  Entry& Add(const std::string& path, mode_t type, mode_t mode);

  std::vector<Entry> entries_;
  uid_t uid_ = static_cast<uid_t>(-1);
  gid_t gid_ = static_cast<gid_t>(-1);
  int64_t mtime_ = 1700000000;
};

std::string Compress(const std::string& data, Compression compression);

// Writes `tar` compressed as asked into `dir` under the sha256 of the blob
// (dir/<hex>); returns the path. `blob_digest` receives the blob digest.
std::string WriteBlob(const std::string& dir, const std::string& tar, Compression compression,
                      Digest* blob_digest = nullptr);

}  // namespace berth::image::testing
