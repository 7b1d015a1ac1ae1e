#include "runtime/image/unpack/layer_stream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/log.h"

namespace berth::image {
namespace {

constexpr size_t kBlockSize = 1 << 17;

}  // namespace

Result<std::unique_ptr<LayerStream>> LayerStream::Open(const std::string& blob_path) {
  std::unique_ptr<LayerStream> s(new LayerStream());
  s->path_ = blob_path;
  s->fd_ = UniqueFd(::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!s->fd_) return Error::Sys("open", blob_path);
  s->buffer_.resize(kBlockSize);

  s->raw_ = archive_read_new();
  s->tar_ = archive_read_new();
  if (s->raw_ == nullptr || s->tar_ == nullptr) {
    return Error(Errc::kResourceExhausted, "archive_read_new failed");
  }
  // gzip and zstd: the compressions the image spec defines. No other
  // filter is enabled, and ARCHIVE_WARN (libarchive would fall back to an
  // external gzip/zstd program) is refused.
  if (archive_read_support_filter_gzip(s->raw_) != ARCHIVE_OK ||
      archive_read_support_filter_zstd(s->raw_) != ARCHIVE_OK ||
      archive_read_support_format_raw(s->raw_) != ARCHIVE_OK) {
    return s->ArchiveError(s->raw_, "set up decompression");
  }
  struct stat st {};
  if (::fstat(s->fd_.get(), &st) != 0) return Error::Sys("stat", blob_path);
  if (st.st_size == 0) {
    // An empty blob is an empty tar stream (Go's archive/tar reads it as
    // such); libarchive's format detection has nothing to look at.
    s->raw_eof_ = true;
  } else {
    if (archive_read_open_fd(s->raw_, s->fd_.get(), kBlockSize) != ARCHIVE_OK) {
      return s->ArchiveError(s->raw_, "open");
    }
    archive_entry* raw_entry = nullptr;
    int r = archive_read_next_header(s->raw_, &raw_entry);
    if (r == ARCHIVE_EOF) {
      s->raw_eof_ = true;
    } else if (r < ARCHIVE_WARN) {
      return s->ArchiveError(s->raw_, "decompress");
    }
  }
  // The filter chain ends in the client reader; more than one filter on it
  // would be compression nested in compression, which no layer media type
  // describes.
  if (archive_filter_count(s->raw_) > 2) {
    return Error(Errc::kInvalidArgument,
                 "blob `" + blob_path + "`: nested compression is not a layer format");
  }
  switch (archive_filter_code(s->raw_, 0)) {
    case ARCHIVE_FILTER_GZIP:
      s->compression_ = "gzip";
      break;
    case ARCHIVE_FILTER_ZSTD:
      s->compression_ = "zstd";
      break;
    default:
      s->compression_ = "none";
  }

  if (archive_read_support_format_tar(s->tar_) != ARCHIVE_OK ||
      archive_read_support_format_empty(s->tar_) != ARCHIVE_OK ||
      archive_read_open(s->tar_, s.get(), nullptr, &LayerStream::ReadCallback, nullptr) !=
          ARCHIVE_OK) {
    return s->ArchiveError(s->tar_, "open tar stream");
  }
  return s;
}

LayerStream::~LayerStream() {
  if (tar_ != nullptr) archive_read_free(tar_);
  if (raw_ != nullptr) archive_read_free(raw_);
}

la_ssize_t LayerStream::ReadCallback(archive* tar, void* self, const void** buffer) {
  auto* s = static_cast<LayerStream*>(self);
  if (s->raw_eof_) return 0;
  la_ssize_t n = archive_read_data(s->raw_, s->buffer_.data(), s->buffer_.size());
  if (n < 0) {
    const char* why = archive_error_string(s->raw_);
    s->raw_error_ = why != nullptr ? why : "decompression failed";
    archive_set_error(tar, EIO, "%s", s->raw_error_.c_str());
    return -1;
  }
  if (n == 0) {
    s->raw_eof_ = true;
    return 0;
  }
  s->hash_.Update(s->buffer_.data(), static_cast<size_t>(n));
  s->uncompressed_bytes_ += static_cast<uint64_t>(n);
  *buffer = s->buffer_.data();
  return n;
}

Error LayerStream::ArchiveError(archive* a, const std::string& op) const {
  const char* why = archive_error_string(a);
  std::string message =
      "blob `" + path_ + "`: " + op + ": " + (why != nullptr ? why : "libarchive error");
  return Error(Errc::kDataLoss, message);
}

Result<archive_entry*> LayerStream::Next() {
  archive_entry* entry = nullptr;
  int r = archive_read_next_header(tar_, &entry);
  if (r == ARCHIVE_EOF) return static_cast<archive_entry*>(nullptr);
  if (r < ARCHIVE_WARN) return ArchiveError(tar_, "read tar header");
  current_size_ = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0;
  if (r == ARCHIVE_WARN) {
    const char* why = archive_error_string(tar_);
    BLOG(kWarn) << "blob " << path_ << ": " << (why != nullptr ? why : "tar warning");
  }
  return entry;
}

Status LayerStream::WriteTo(int fd, const std::string& what) {
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int64_t end = 0;
  while (true) {
    int r = archive_read_data_block(tar_, &block, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return ArchiveError(tar_, "read the data of \"" + what + "\"");
    const char* p = static_cast<const char*>(block);
    for (size_t done = 0; done < size;) {
      ssize_t w = ::pwrite(fd, p + done, size - done,
                           static_cast<off_t>(offset + static_cast<la_int64_t>(done)));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error::Sys("write", what);
      done += static_cast<size_t>(w);
    }
    end = std::max<int64_t>(end, offset + static_cast<int64_t>(size));
  }
  // A sparse member may end in a hole: the file still has its full size.
  if (current_size_ > end && ::ftruncate(fd, current_size_) != 0) {
    return Error::Sys("ftruncate", what);
  }
  return Ok();
}

Result<Digest> LayerStream::Finish() {
  while (!raw_eof_) {
    la_ssize_t n = archive_read_data(raw_, buffer_.data(), buffer_.size());
    if (n < 0) return ArchiveError(raw_, "decompress");
    if (n == 0) break;
    hash_.Update(buffer_.data(), static_cast<size_t>(n));
    uncompressed_bytes_ += static_cast<uint64_t>(n);
  }
  raw_eof_ = true;
  return hash_.Finish();
}

}  // namespace berth::image
