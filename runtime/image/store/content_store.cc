#include "runtime/image/store/content_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <random>

#include "common/file.h"

namespace berth::image {
namespace {

std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t seed = std::random_device{}();
  return std::to_string(::getpid()) + "-" + std::to_string(seed % 1000000) + "-" +
         std::to_string(counter++);
}

Status WriteAll(int fd, const void* data, size_t size, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Sys("write", path);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return Ok();
}

Status Fsync(int fd, const std::string& path) {
  if (::fsync(fd) != 0) return Error::Sys("fsync", path);
  return Ok();
}

Status FsyncDir(const std::string& dir) {
  UniqueFd fd = BERTH_TRY(Open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return Fsync(fd.get(), dir);
}

}  // namespace

BlobWriter::~BlobWriter() {
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Status BlobWriter::Write(const void* data, size_t size) {
  BERTH_TRY(WriteAll(file_.get(), data, size, temp_path_));
  hash_.Update(data, size);
  written_ += size;
  if (expected_size_ >= 0 && written_ > static_cast<uint64_t>(expected_size_)) {
    return Error(Errc::kDataLoss, "blob " + expected_.str() + ": more than the expected " +
                                      std::to_string(expected_size_) + " bytes");
  }
  return Ok();
}

Status BlobWriter::Reset() {
  if (::ftruncate(file_.get(), 0) != 0) return Error::Sys("ftruncate", temp_path_);
  if (::lseek(file_.get(), 0, SEEK_SET) != 0) return Error::Sys("lseek", temp_path_);
  hash_ = Sha256();
  written_ = 0;
  return Ok();
}

Status BlobWriter::Commit() {
  if (expected_size_ >= 0 && written_ != static_cast<uint64_t>(expected_size_)) {
    return Error(Errc::kDataLoss, "blob " + expected_.str() + ": got " + std::to_string(written_) +
                                      " bytes, the descriptor says " +
                                      std::to_string(expected_size_));
  }
  Digest got = hash_.Finish();
  if (got != expected_) {
    return Error(Errc::kDataLoss,
                 "blob " + expected_.str() + ": content digest " + got.str() + " does not match");
  }
  BERTH_TRY(Fsync(file_.get(), temp_path_));
  if (::fchmod(file_.get(), 0444) != 0) return Error::Sys("fchmod", temp_path_);
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return Error::Sys("rename", temp_path_ + " to " + final_path_);
  }
  committed_ = true;
  // Later writers of this digest find the blob; the lock is not needed.
  (void)::unlink(lock_path_.c_str());
  lock_.reset();  // waiting writers wake up and find the blob
  return FsyncDir(blobs_dir_);
}

Result<ContentStore> ContentStore::Open(std::string root) {
  BERTH_TRY(MkdirAll(root + "/blobs/sha256", 0700));
  BERTH_TRY(MkdirAll(root + "/ingest", 0700));
  return ContentStore(std::move(root));
}

std::string ContentStore::BlobPath(const Digest& d) const {
  return root_ + "/blobs/" + d.algorithm() + "/" + d.hex();
}

bool ContentStore::Has(const Digest& d) const {
  return PathExists(BlobPath(d));
}

Result<int64_t> ContentStore::Size(const Digest& d) const {
  struct stat st {};
  std::string path = BlobPath(d);
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Error(Errc::kNotFound, "blob " + d.str() + " not in the store");
    return Error::Sys("stat", path);
  }
  return static_cast<int64_t>(st.st_size);
}

Result<std::string> ContentStore::Read(const Digest& d, size_t max_size) const {
  int64_t size = BERTH_TRY(Size(d));
  if (static_cast<uint64_t>(size) > max_size) {
    return Error(Errc::kResourceExhausted, "blob " + d.str() + " is " + std::to_string(size) +
                                               " bytes, more than " + std::to_string(max_size) +
                                               " expected for a document");
  }
  return ReadFile(BlobPath(d));
}

Result<std::unique_ptr<BlobWriter>> ContentStore::Begin(const Digest& d, int64_t size) const {
  if (d.algorithm() != "sha256") {
    return Error(Errc::kInvalidArgument, "blob " + d.str() + ": only sha256 content is stored");
  }
  if (Has(d)) return std::unique_ptr<BlobWriter>();
  std::unique_ptr<BlobWriter> w(new BlobWriter());
  std::string lock_path = root_ + "/ingest/" + d.hex() + ".lock";
  w->lock_ = BERTH_TRY(berth::Open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  while (::flock(w->lock_.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Error::Sys("flock", lock_path);
  }
  if (Has(d)) {  // committed while we waited
    (void)::unlink(lock_path.c_str());
    return std::unique_ptr<BlobWriter>();
  }
  w->lock_path_ = lock_path;
  w->blobs_dir_ = root_ + "/blobs/sha256";
  w->final_path_ = BlobPath(d);
  w->temp_path_ = root_ + "/ingest/" + d.hex() + "." + UniqueSuffix();
  w->file_ = BERTH_TRY(berth::Open(w->temp_path_, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  w->expected_ = d;
  w->expected_size_ = size;
  return w;
}

Status ContentStore::Put(const Digest& d, std::string_view data) const {
  std::unique_ptr<BlobWriter> w = BERTH_TRY(Begin(d, static_cast<int64_t>(data.size())));
  if (!w) return Ok();
  BERTH_TRY(w->Write(data));
  return w->Commit();
}

Status ContentStore::PutFile(const Digest& d, const std::string& path) const {
  UniqueFd in = BERTH_TRY(berth::Open(path, O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return Error::Sys("fstat", path);
  std::unique_ptr<BlobWriter> w = BERTH_TRY(Begin(d, st.st_size));
  if (!w) return Ok();
  std::array<char, 1 << 16> buf{};
  while (true) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Sys("read", path);
    if (n == 0) break;
    BERTH_TRY(w->Write(buf.data(), static_cast<size_t>(n)));
  }
  Status s = w->Commit();
  if (!s.ok()) return std::move(s).error().Wrap(path);
  return Ok();
}

Result<std::vector<Digest>> ContentStore::List() const {
  std::vector<Digest> out;
  for (const std::string& name : BERTH_TRY(ListDir(root_ + "/blobs/sha256"))) {
    Result<Digest> d = Digest::Parse("sha256:" + name);
    if (d.ok()) out.push_back(*d);
  }
  return out;
}

Status ContentStore::Delete(const Digest& d) const {
  std::string path = BlobPath(d);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error::Sys("unlink", path);
  return Ok();
}

Status ContentStore::CleanIngest() const {
  std::string dir = root_ + "/ingest";
  for (const std::string& name : BERTH_TRY(ListDir(dir))) {
    size_t dot = name.find('.');
    if (dot == std::string::npos) continue;
    std::string lock_path = dir + "/" + name.substr(0, dot) + ".lock";
    Result<UniqueFd> lock = berth::Open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (!lock.ok()) continue;
    if (::flock(lock->get(), LOCK_EX | LOCK_NB) != 0) continue;  // a writer is active
    if (name.substr(dot) != ".lock") (void)::unlink((dir + "/" + name).c_str());
  }
  return Ok();
}

}  // namespace berth::image
