#include "runtime/image/unpack/tests/tar_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "common/file.h"

namespace berth::image::testing {
namespace {

la_ssize_t Append(archive* /*a*/, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

[[noreturn]] void Die(archive* a, const char* what) {
  std::cerr << "tar builder: " << what << ": " << archive_error_string(a) << "\n";
  std::abort();
}

}  // namespace

TarBuilder& TarBuilder::Owner(uid_t uid, gid_t gid) {
  uid_ = uid;
  gid_ = gid;
  return *this;
}

TarBuilder& TarBuilder::Mtime(int64_t seconds) {
  mtime_ = seconds;
  return *this;
}

TarBuilder::Entry& TarBuilder::Add(const std::string& path, mode_t type, mode_t mode) {
  Entry& e = entries_.emplace_back();
  e.path = path;
  e.type = type;
  e.mode = mode;
  e.uid = uid_ == static_cast<uid_t>(-1) ? ::getuid() : uid_;
  e.gid = gid_ == static_cast<gid_t>(-1) ? ::getgid() : gid_;
  e.mtime = mtime_;
  return e;
}

TarBuilder& TarBuilder::Dir(const std::string& path, mode_t mode) {
  Add(path, S_IFDIR, mode);
  return *this;
}

TarBuilder& TarBuilder::File(const std::string& path, const std::string& content, mode_t mode) {
  Add(path, S_IFREG, mode).content = content;
  return *this;
}

TarBuilder& TarBuilder::SparseFile(const std::string& path, const std::string& content,
                                   std::vector<std::pair<int64_t, int64_t>> regions) {
  Entry& e = Add(path, S_IFREG, 0644);
  e.content = content;
  e.sparse = std::move(regions);
  return *this;
}

TarBuilder& TarBuilder::Symlink(const std::string& path, const std::string& target) {
  Add(path, S_IFLNK, 0777).symlink = target;
  return *this;
}

TarBuilder& TarBuilder::Hardlink(const std::string& path, const std::string& target) {
  Add(path, S_IFREG, 0644).hardlink = target;
  return *this;
}

TarBuilder& TarBuilder::Device(const std::string& path, mode_t type, unsigned major, unsigned minor,
                               mode_t mode) {
  Entry& e = Add(path, type, mode);
  e.major = major;
  e.minor = minor;
  return *this;
}

TarBuilder& TarBuilder::Fifo(const std::string& path, mode_t mode) {
  Add(path, S_IFIFO, mode);
  return *this;
}

TarBuilder& TarBuilder::Whiteout(const std::string& path) {
  std::string dir = Dirname(path);
  std::string name = ".wh." + Basename(path);
  return File(dir == "." ? name : dir + "/" + name, "", 0644);
}

TarBuilder& TarBuilder::Opaque(const std::string& dir) {
  return File(dir + "/.wh..wh..opq", "", 0644);
}

TarBuilder& TarBuilder::Xattr(const std::string& name, const std::string& value) {
  entries_.back().xattrs.emplace_back(name, value);
  return *this;
}

std::string TarBuilder::Tar() const {
  std::string out;
  archive* a = archive_write_new();
  // Default blocking (10240 bytes): the stream goes on after the
  // end-of-archive marker, which the diff_id must still cover.
  // Full pax only when needed: it is the variant that writes sparse maps.
  bool sparse = std::any_of(entries_.begin(), entries_.end(),
                            [](const Entry& e) { return !e.sparse.empty(); });
  if (sparse) {
    archive_write_set_format_pax(a);
  } else {
    archive_write_set_format_pax_restricted(a);
  }
  if (archive_write_open2(a, &out, nullptr, Append, nullptr, nullptr) != ARCHIVE_OK) {
    Die(a, "open");
  }
  for (const Entry& e : entries_) {
    archive_entry* entry = archive_entry_new();
    archive_entry_copy_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, e.mode);
    archive_entry_set_uid(entry, e.uid);
    archive_entry_set_gid(entry, e.gid);
    archive_entry_set_mtime(entry, e.mtime, 0);
    if (!e.hardlink.empty()) archive_entry_copy_hardlink(entry, e.hardlink.c_str());
    if (!e.symlink.empty()) archive_entry_copy_symlink(entry, e.symlink.c_str());
    if (e.type == S_IFCHR || e.type == S_IFBLK) {
      archive_entry_set_rdevmajor(entry, e.major);
      archive_entry_set_rdevminor(entry, e.minor);
    }
    // Before the sparse map: libarchive drops regions beyond the size.
    archive_entry_set_size(entry, e.type == S_IFREG && e.hardlink.empty()
                                      ? static_cast<la_int64_t>(e.content.size())
                                      : 0);
    for (const auto& [offset, length] : e.sparse) {
      archive_entry_sparse_add_entry(entry, offset, length);
    }
    for (const auto& [name, value] : e.xattrs) {
      archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), value.size());
    }
    if (archive_write_header(a, entry) < ARCHIVE_WARN) Die(a, "write header");
    if (!e.content.empty() && archive_write_data(a, e.content.data(), e.content.size()) < 0) {
      Die(a, "write data");
    }
    archive_entry_free(entry);
  }
  if (archive_write_close(a) != ARCHIVE_OK) Die(a, "close");
  archive_write_free(a);
  return out;
}

std::string Compress(const std::string& data, Compression compression) {
  if (compression == Compression::kNone) return data;
  std::string out;
  archive* a = archive_write_new();
  if (compression == Compression::kGzip) {
    archive_write_add_filter_gzip(a);
  } else {
    archive_write_add_filter_zstd(a);
  }
  archive_write_set_format_raw(a);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open2(a, &out, nullptr, Append, nullptr, nullptr) != ARCHIVE_OK) {
    Die(a, "open");
  }
  archive_entry* entry = archive_entry_new();
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_size(entry, static_cast<la_int64_t>(data.size()));
  if (archive_write_header(a, entry) != ARCHIVE_OK) Die(a, "raw header");
  if (!data.empty() && archive_write_data(a, data.data(), data.size()) < 0) Die(a, "raw data");
  archive_entry_free(entry);
  if (archive_write_close(a) != ARCHIVE_OK) Die(a, "close");
  archive_write_free(a);
  return out;
}

std::string WriteBlob(const std::string& dir, const std::string& tar, Compression compression,
                      Digest* blob_digest) {
  std::string blob = Compress(tar, compression);
  Digest digest = Sha256Of(blob);
  std::string path = dir + "/" + digest.hex();
  if (!WriteFile(path, blob).ok()) {
    std::cerr << "tar builder: cannot write " << path << "\n";
    std::abort();
  }
  if (blob_digest != nullptr) *blob_digest = digest;
  return path;
}

}  // namespace berth::image::testing
